package org.diskferry.image.zstd;

/**
 * A Huffman decoding table for literals (RFC 8878 section 4.2): indexed by the next
 * {@link #maxBits} bits of the stream, each entry holds the symbol in bits 0-7 and the length of
 * its code in bits 8-15.
 */
final class HuffmanTable {
  private static final int MAX_BITS = 11;
  private static final int WEIGHT_LOG = 6;

  final int maxBits;
  final short[] entries;

  private HuffmanTable(int maxBits, short[] entries) {
    this.maxBits = maxBits;
    this.entries = entries;
  }

  /** The result of reading a tree description: the table and the offset just past it. */
  record Read(HuffmanTable table, int end) {}

  /** Reads a Huffman tree description at {@code b[pos]}, not past {@code end}. */
  static Read read(byte[] b, int pos, int end) throws ZstdException {
    if (pos >= end) {
      throw new ZstdException("Huffman tree description is truncated");
    }
    int header = b[pos++] & 0xff;
    int[] weights = new int[256];
    int n;
    if (header < 128) {
      int stop = pos + header;
      if (header == 0 || stop > end) {
        throw new ZstdException("Huffman tree description has a bad size " + header);
      }
      n = fseWeights(b, pos, stop, weights);
      pos = stop;
    } else {
      n = header - 127;
      int stop = pos + (n + 1) / 2;
      if (stop > end) {
        throw new ZstdException("Huffman tree description is truncated");
      }
      for (int i = 0; i < n; i++) {
        int v = b[pos + i / 2] & 0xff;
        weights[i] = (i & 1) == 0 ? v >>> 4 : v & 15;
      }
      pos = stop;
    }
    return new Read(build(weights, n), pos);
  }

  /** Decodes FSE-compressed weights from {@code b[pos, end)}; returns how many. */
  private static int fseWeights(byte[] b, int pos, int end, int[] weights) throws ZstdException {
    FseTable.Read r = FseTable.read(b, pos, end, 255, WEIGHT_LOG, "Huffman weights");
    int[] t = r.table().entries;
    int log = r.table().log;
    BackwardBitReader in = new BackwardBitReader(b, r.end(), end, "Huffman weights");
    int s1 = in.readInt(log);
    int s2 = in.readInt(log);
    int n = 0;
    while (true) {
      if (n > 253) {
        throw new ZstdException("too many Huffman weights");
      }
      weights[n++] = FseTable.symbol(t[s1]);
      s1 = FseTable.base(t[s1]) + in.readInt(FseTable.bits(t[s1]));
      if (in.remaining() < 0) {
        weights[n++] = FseTable.symbol(t[s2]);
        break;
      }
      weights[n++] = FseTable.symbol(t[s2]);
      s2 = FseTable.base(t[s2]) + in.readInt(FseTable.bits(t[s2]));
      if (in.remaining() < 0) {
        weights[n++] = FseTable.symbol(t[s1]);
        break;
      }
    }
    return n;
  }

  /** Builds the table from the weights of the first {@code n} symbols; the last is implied. */
  private static HuffmanTable build(int[] weights, int n) throws ZstdException {
    if (n > 255) {
      throw new ZstdException("too many Huffman weights");
    }
    long total = 0;
    int[] rankCount = new int[MAX_BITS + 2];
    for (int i = 0; i < n; i++) {
      int w = weights[i];
      if (w > MAX_BITS) {
        throw new ZstdException("Huffman weight " + w + " is over " + MAX_BITS);
      }
      rankCount[w]++;
      total += (1L << w) >>> 1;
    }
    if (total == 0) {
      throw new ZstdException("Huffman weights are all zero");
    }
    int maxBits = 64 - Long.numberOfLeadingZeros(total); // highest bit + 1
    if (maxBits > MAX_BITS) {
      throw new ZstdException("Huffman code longer than " + MAX_BITS + " bits");
    }
    long rest = (1L << maxBits) - total;
    if (Long.bitCount(rest) != 1) {
      throw new ZstdException("Huffman weights do not make a complete tree");
    }
    int last = 64 - Long.numberOfLeadingZeros(rest);
    weights[n] = last;
    rankCount[last]++;
    int symbols = n + 1;
    if (rankCount[1] < 2 || (rankCount[1] & 1) != 0) {
      throw new ZstdException("Huffman weights have an odd number of the longest codes");
    }
    int[] rankStart = new int[MAX_BITS + 2];
    int next = 0;
    for (int w = 1; w <= maxBits; w++) {
      rankStart[w] = next;
      next += rankCount[w] << (w - 1);
    }
    short[] entries = new short[1 << maxBits];
    for (int s = 0; s < symbols; s++) {
      int w = weights[s];
      if (w == 0) {
        continue;
      }
      int len = 1 << (w - 1);
      short e = (short) (s | ((maxBits + 1 - w) << 8));
      int at = rankStart[w];
      for (int i = 0; i < len; i++) {
        entries[at + i] = e;
      }
      rankStart[w] = at + len;
    }
    return new HuffmanTable(maxBits, entries);
  }

  /** Decodes {@code count} literals from the stream {@code b[start, end)} into {@code out[op]}. */
  void decodeStream(byte[] b, int start, int end, byte[] out, int op, int count)
      throws ZstdException {
    BackwardBitReader in = new BackwardBitReader(b, start, end, "Huffman literals");
    int bits = maxBits;
    short[] t = entries;
    for (int i = op, stop = op + count; i < stop; i++) {
      short e = t[(int) in.peek(bits)];
      out[i] = (byte) e;
      in.skip(e >>> 8);
    }
    if (in.remaining() != 0) {
      throw new ZstdException("Huffman literals stream does not end where it should");
    }
  }
}
