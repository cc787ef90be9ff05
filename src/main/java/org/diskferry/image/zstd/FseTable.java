package org.diskferry.image.zstd;

/**
 * A finite state entropy decoding table (RFC 8878 section 4.1): one packed entry per state, the
 * symbol in bits 0-7, the number of bits to read for the next state in bits 8-15 and the base of
 * the next state in bits 16-31.
 */
final class FseTable {
  final int[] entries;
  final int log;

  private FseTable(int[] entries, int log) {
    this.entries = entries;
    this.log = log;
  }

  static int symbol(int entry) {
    return entry & 0xff;
  }

  static int bits(int entry) {
    return (entry >>> 8) & 0xff;
  }

  static int base(int entry) {
    return entry >>> 16;
  }

  /** The table of a single symbol that every state decodes to, reading no bits (RLE mode). */
  static FseTable rle(int symbol) {
    return new FseTable(new int[] {symbol}, 0);
  }

  /**
   * Builds a table from normalized counts ({@code -1} for a "less than one" probability) that sum,
   * with each -1 counted as 1, to {@code 1 << log}.
   */
  static FseTable build(short[] counts, int symbols, int log) throws ZstdException {
    int size = 1 << log;
    int[] symbolOf = new int[size];
    int[] next = new int[symbols];
    int high = size - 1;
    for (int s = 0; s < symbols; s++) {
      if (counts[s] == -1) {
        if (high < 0) {
          throw new ZstdException("FSE table description overflows its table");
        }
        symbolOf[high--] = s;
        next[s] = 1;
      } else {
        next[s] = counts[s];
      }
    }
    int mask = size - 1;
    int step = (size >>> 1) + (size >>> 3) + 3;
    int pos = 0;
    for (int s = 0; s < symbols; s++) {
      for (int i = 0; i < counts[s]; i++) {
        symbolOf[pos] = s;
        do {
          pos = (pos + step) & mask;
        } while (pos > high);
      }
    }
    if (pos != 0) {
      throw new ZstdException("FSE table description does not fill its table");
    }
    int[] entries = new int[size];
    for (int u = 0; u < size; u++) {
      int s = symbolOf[u];
      int n = next[s]++;
      int nbBits = log - (31 - Integer.numberOfLeadingZeros(n));
      int base = (n << nbBits) - size;
      entries[u] = s | (nbBits << 8) | (base << 16);
    }
    return new FseTable(entries, log);
  }

  /** A table from normalized counts given as an array (the predefined distributions). */
  static FseTable predefined(int log, int... counts) {
    short[] c = new short[counts.length];
    for (int i = 0; i < counts.length; i++) {
      c[i] = (short) counts[i];
    }
    try {
      return build(c, c.length, log);
    } catch (ZstdException e) {
      throw new IllegalStateException(e);
    }
  }

  /** The result of reading a table description: the table and the offset just past it. */
  record Read(FseTable table, int end) {}

  /**
   * Reads an FSE table description at {@code b[pos]}, not past {@code end}, for symbols 0 to
   * {@code maxSymbol} and an accuracy log of at most {@code maxLog}.
   */
  static Read read(byte[] b, int pos, int end, int maxSymbol, int maxLog, String what)
      throws ZstdException {
    ForwardBits in = new ForwardBits(b, pos, end);
    int log = in.read(4) + 5;
    if (log > maxLog) {
      throw new ZstdException(what + " table accuracy log " + log + " is over " + maxLog);
    }
    short[] counts = new short[maxSymbol + 1];
    int remaining = (1 << log) + 1;
    int threshold = 1 << log;
    int nbBits = log + 1;
    int symbol = 0;
    boolean previousZero = false;
    while (remaining > 1 && symbol <= maxSymbol) {
      if (previousZero) {
        int repeat;
        do {
          repeat = in.read(2);
          symbol += repeat;
        } while (repeat == 3 && symbol <= maxSymbol);
        if (symbol > maxSymbol) {
          throw new ZstdException(what + " table description has too many symbols");
        }
      }
      int max = (2 * threshold - 1) - remaining;
      int value;
      int low = in.peek(nbBits - 1);
      if (low < max) {
        value = low;
        in.skip(nbBits - 1);
      } else {
        value = in.read(nbBits);
        if (value >= threshold) {
          value -= max;
        }
      }
      int count = value - 1;
      remaining -= Math.abs(count);
      counts[symbol++] = (short) count;
      previousZero = count == 0;
      if (remaining < 1) {
        throw new ZstdException(what + " table description has too large probabilities");
      }
      while (remaining < threshold) {
        nbBits--;
        threshold >>>= 1;
      }
    }
    if (remaining != 1) {
      throw new ZstdException(what + " table description does not add up");
    }
    int endPos = in.bytePosition();
    if (endPos > end) {
      throw new ZstdException(what + " table description is truncated");
    }
    return new Read(build(counts, symbol, log), endPos);
  }

  /** A little-endian bit reader over {@code b[pos, end)} that reads zeros past the end. */
  private static final class ForwardBits {
    private final byte[] b;
    private final int start;
    private final int end;
    private long bit;

    ForwardBits(byte[] b, int start, int end) {
      this.b = b;
      this.start = start;
      this.end = end;
    }

    int peek(int n) {
      int v = 0;
      long p = bit;
      for (int i = 0; i < n; i++, p++) {
        long idx = start + (p >>> 3);
        if (idx < end && ((b[(int) idx] >>> (p & 7)) & 1) != 0) {
          v |= 1 << i;
        }
      }
      return v;
    }

    void skip(int n) {
      bit += n;
    }

    int read(int n) {
      int v = peek(n);
      bit += n;
      return v;
    }

    int bytePosition() {
      return (int) Math.min(Integer.MAX_VALUE, start + ((bit + 7) >>> 3));
    }
  }
}
