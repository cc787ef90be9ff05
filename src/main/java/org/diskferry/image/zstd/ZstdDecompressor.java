package org.diskferry.image.zstd;

/**
 * A pure-Java Zstandard decompressor (RFC 8878) for data that fits in a byte array: frames with
 * raw, RLE and compressed blocks, raw, RLE, Huffman and treeless literals, predefined, RLE,
 * FSE-compressed and repeated sequence tables. Skippable frames are skipped and content checksums
 * are verified; frames that need a dictionary are refused. Corrupt or truncated input throws a
 * {@link ZstdException}; decoding never writes outside the given output range and its work is
 * bounded by the sizes of the input and the output.
 *
 * <p>An instance keeps scratch buffers between calls and is not thread-safe; the static methods
 * use a new one each time.
 */
public final class ZstdDecompressor {
  private static final int MAGIC = 0xFD2FB528;
  private static final int SKIPPABLE_MASK = 0xFFFFFFF0;
  private static final int SKIPPABLE_MAGIC = 0x184D2A50;
  private static final int BLOCK_MAX = 128 * 1024;

  // per-frame state
  private final int[] rep = new int[3];
  private HuffmanTable huffman;
  private FseTable llTable;
  private FseTable ofTable;
  private FseTable mlTable;
  private int frameStart;

  // output cursor
  private byte[] dst;
  private int op;
  private int dstEnd;

  // literals of the current block
  private byte[] litBuf = new byte[0];
  private byte[] lit;
  private int litPos;
  private int litEnd;

  /**
   * Decompresses every frame in {@code src[srcOff, srcOff + srcLen)} into {@code dst} from
   * {@code dstOff}; returns the number of bytes produced. Throws if the input is not a sequence
   * of whole frames or if it decompresses to more than {@code dstLen} bytes.
   */
  public static int decompress(byte[] src, int srcOff, int srcLen, byte[] dst, int dstOff,
      int dstLen) throws ZstdException {
    return new ZstdDecompressor().decode(src, srcOff, srcLen, dst, dstOff, dstLen, false);
  }

  /**
   * Decompresses frames from {@code src[srcOff, srcOff + srcLen)} until exactly {@code dstLen}
   * bytes were produced at {@code dst[dstOff]}, the way a qcow2 compressed cluster is stored:
   * whatever follows the frame that fills the output is ignored. Throws if the input ends first
   * or if that frame would produce more.
   */
  public static void decompressExactly(byte[] src, int srcOff, int srcLen, byte[] dst, int dstOff,
      int dstLen) throws ZstdException {
    new ZstdDecompressor().decode(src, srcOff, srcLen, dst, dstOff, dstLen, true);
  }

  /**
   * What {@link #decompressExactly} does if {@code exactly}, else what {@link #decompress} does,
   * reusing this instance's buffers; returns the number of bytes produced.
   */
  public int decode(byte[] src, int srcOff, int srcLen, byte[] dst, int dstOff, int dstLen,
      boolean exactly) throws ZstdException {
    if ((srcOff | srcLen | dstOff | dstLen) < 0 || srcOff > src.length - srcLen
        || dstOff > dst.length - dstLen) {
      throw new IndexOutOfBoundsException("bad range");
    }
    this.dst = dst;
    this.op = dstOff;
    this.dstEnd = dstOff + dstLen;
    int pos = srcOff;
    int end = srcOff + srcLen;
    try {
      while (exactly ? op < dstEnd : pos < end) {
        if (end - pos < 4) {
          throw new ZstdException(exactly
              ? "data ends after " + (op - dstOff) + " of " + dstLen + " bytes"
              : "trailing garbage after the last frame");
        }
        int magic = le32(src, pos);
        if ((magic & SKIPPABLE_MASK) == SKIPPABLE_MAGIC) {
          if (end - pos < 8) {
            throw new ZstdException("truncated skippable frame");
          }
          long size = le32(src, pos + 4) & 0xffffffffL;
          if (size > end - pos - 8) {
            throw new ZstdException("truncated skippable frame");
          }
          pos += 8 + (int) size;
        } else if (magic == MAGIC) {
          pos = frame(src, pos + 4, end);
        } else {
          throw new ZstdException(String.format("not a zstd frame (magic 0x%08x)", magic));
        }
      }
    } catch (IndexOutOfBoundsException e) {
      // every access is checked first; this only turns a missed check into a clean error
      throw new ZstdException("corrupt zstd data (" + e.getMessage() + ")");
    } finally {
      this.dst = null;
      this.lit = null;
    }
    return op - dstOff;
  }

  private static int le32(byte[] b, int p) {
    return (b[p] & 0xff) | (b[p + 1] & 0xff) << 8 | (b[p + 2] & 0xff) << 16 | (b[p + 3] & 0xff) << 24;
  }

  private static int u8(byte[] b, int p, int end) throws ZstdException {
    if (p >= end) {
      throw new ZstdException("truncated data");
    }
    return b[p] & 0xff;
  }

  // ---- frames and blocks ----

  /** Decodes one frame whose header starts at {@code pos}; returns the offset after it. */
  private int frame(byte[] src, int pos, int end) throws ZstdException {
    int fhd = u8(src, pos++, end);
    int fcsFlag = fhd >>> 6;
    boolean single = (fhd & 0x20) != 0;
    boolean checksum = (fhd & 0x04) != 0;
    int dictFlag = fhd & 3;
    if ((fhd & 0x08) != 0) {
      throw new ZstdException("frame header has the reserved bit set");
    }
    long window = 0;
    if (!single) {
      int wd = u8(src, pos++, end);
      int exp = (wd >>> 3) + 10;
      if (exp > 41) {
        throw new ZstdException("window size 2^" + exp + " is too large");
      }
      long base = 1L << exp;
      window = base + (base >>> 3) * (wd & 7);
    }
    int dictLen = dictFlag == 3 ? 4 : dictFlag;
    long dictId = 0;
    for (int i = 0; i < dictLen; i++) {
      dictId |= (long) u8(src, pos++, end) << (8 * i);
    }
    if (dictId != 0) {
      throw new ZstdException("frame needs dictionary " + dictId + ", which is not supported");
    }
    int fcsLen = fcsFlag == 0 ? (single ? 1 : 0) : 1 << fcsFlag;
    long contentSize = -1;
    if (fcsLen > 0) {
      contentSize = 0;
      for (int i = 0; i < fcsLen; i++) {
        contentSize |= (long) u8(src, pos++, end) << (8 * i);
      }
      if (fcsLen == 2) {
        contentSize += 256;
      }
    }
    if (single) {
      window = contentSize;
    }
    if (contentSize > dstEnd - op || contentSize < -1) {
      throw new ZstdException(
          "frame content size " + Long.toUnsignedString(contentSize) + " exceeds the "
              + (dstEnd - op) + " bytes of output left");
    }
    int blockMax = (int) Math.min(window, BLOCK_MAX);

    frameStart = op;
    rep[0] = 1;
    rep[1] = 4;
    rep[2] = 8;
    huffman = null;
    llTable = null;
    ofTable = null;
    mlTable = null;

    boolean last;
    do {
      if (end - pos < 3) {
        throw new ZstdException("truncated block header");
      }
      int bh = (src[pos] & 0xff) | (src[pos + 1] & 0xff) << 8 | (src[pos + 2] & 0xff) << 16;
      pos += 3;
      last = (bh & 1) != 0;
      int type = (bh >>> 1) & 3;
      int size = bh >>> 3;
      if (size > BLOCK_MAX) {
        throw new ZstdException("block size " + size + " is over " + BLOCK_MAX);
      }
      switch (type) {
        case 0 -> {
          if (size > end - pos) {
            throw new ZstdException("truncated raw block");
          }
          room(size);
          System.arraycopy(src, pos, dst, op, size);
          op += size;
          pos += size;
        }
        case 1 -> {
          int b = u8(src, pos++, end);
          room(size);
          java.util.Arrays.fill(dst, op, op + size, (byte) b);
          op += size;
        }
        case 2 -> {
          if (size > end - pos) {
            throw new ZstdException("truncated compressed block");
          }
          if (size > blockMax) {
            throw new ZstdException("compressed block of " + size + " bytes exceeds the window");
          }
          compressedBlock(src, pos, pos + size);
          pos += size;
        }
        default -> throw new ZstdException("reserved block type");
      }
    } while (!last);

    if (contentSize >= 0 && op - frameStart != contentSize) {
      throw new ZstdException("frame decompressed to " + (op - frameStart)
          + " bytes instead of its content size " + contentSize);
    }
    if (checksum) {
      if (end - pos < 4) {
        throw new ZstdException("truncated content checksum");
      }
      int want = le32(src, pos);
      pos += 4;
      int got = (int) XxHash64.hash(dst, frameStart, op - frameStart);
      if (want != got) {
        throw new ZstdException("content checksum mismatch");
      }
    }
    return pos;
  }

  /** Checks that {@code n} more bytes fit in the output. */
  private void room(long n) throws ZstdException {
    if (n > dstEnd - op) {
      throw new ZstdException("data decompresses to more than the " + (dstEnd - frameStart)
          + " bytes expected");
    }
  }

  private void compressedBlock(byte[] src, int pos, int end) throws ZstdException {
    int blockStart = op;
    pos = literals(src, pos, end);
    pos = sequences(src, pos, end);
    if (op - blockStart > BLOCK_MAX) {
      throw new ZstdException("block decompresses to more than " + BLOCK_MAX + " bytes");
    }
  }

  // ---- literals ----

  /** Reads the literals section at {@code pos}; returns the offset after it. */
  private int literals(byte[] src, int pos, int end) throws ZstdException {
    int b0 = u8(src, pos, end);
    int type = b0 & 3;
    int format = (b0 >>> 2) & 3;
    if (type < 2) {
      int size;
      switch (format) {
        case 0, 2 -> {
          size = b0 >>> 3;
          pos += 1;
        }
        case 1 -> {
          size = (b0 >>> 4) + (u8(src, pos + 1, end) << 4);
          pos += 2;
        }
        default -> {
          size = (b0 >>> 4) + (u8(src, pos + 1, end) << 4) + (u8(src, pos + 2, end) << 12);
          pos += 3;
        }
      }
      if (size > BLOCK_MAX) {
        throw new ZstdException("literals section too large");
      }
      if (type == 0) {
        if (size > end - pos) {
          throw new ZstdException("truncated raw literals");
        }
        lit = src;
        litPos = pos;
        litEnd = pos + size;
        return pos + size;
      }
      int b = u8(src, pos, end);
      byte[] buf = litBuffer(size);
      java.util.Arrays.fill(buf, 0, size, (byte) b);
      lit = buf;
      litPos = 0;
      litEnd = size;
      return pos + 1;
    }
    int headerLen = format < 2 ? 3 : format + 2;
    if (headerLen > end - pos) {
      throw new ZstdException("truncated literals header");
    }
    long h = 0;
    for (int i = 0; i < headerLen; i++) {
      h |= (src[pos + i] & 0xffL) << (8 * i);
    }
    int fieldBits = format < 2 ? 10 : format == 2 ? 14 : 18;
    int mask = (1 << fieldBits) - 1;
    int regenerated = (int) (h >>> 4) & mask;
    int compressed = (int) (h >>> (4 + fieldBits)) & mask;
    boolean fourStreams = format != 0;
    pos += headerLen;
    if (compressed > end - pos) {
      throw new ZstdException("truncated Huffman literals");
    }
    if (regenerated > BLOCK_MAX) {
      throw new ZstdException("literals section too large");
    }
    int stop = pos + compressed;
    if (type == 2) {
      HuffmanTable.Read r = HuffmanTable.read(src, pos, stop);
      huffman = r.table();
      pos = r.end();
    } else if (huffman == null) {
      throw new ZstdException("treeless literals without a previous Huffman table");
    }
    byte[] buf = litBuffer(regenerated);
    if (!fourStreams) {
      huffman.decodeStream(src, pos, stop, buf, 0, regenerated);
    } else {
      if (stop - pos < 10) {
        throw new ZstdException("truncated Huffman jump table");
      }
      int s1 = (src[pos] & 0xff) | (src[pos + 1] & 0xff) << 8;
      int s2 = (src[pos + 2] & 0xff) | (src[pos + 3] & 0xff) << 8;
      int s3 = (src[pos + 4] & 0xff) | (src[pos + 5] & 0xff) << 8;
      int p1 = pos + 6;
      int p2 = p1 + s1;
      int p3 = p2 + s2;
      int p4 = p3 + s3;
      if (p4 > stop) {
        throw new ZstdException("Huffman jump table points past the literals");
      }
      int each = (regenerated + 3) / 4;
      int lastCount = regenerated - 3 * each;
      if (lastCount < 0) {
        throw new ZstdException("too few literals for four streams");
      }
      huffman.decodeStream(src, p1, p2, buf, 0, each);
      huffman.decodeStream(src, p2, p3, buf, each, each);
      huffman.decodeStream(src, p3, p4, buf, 2 * each, each);
      huffman.decodeStream(src, p4, stop, buf, 3 * each, lastCount);
    }
    lit = buf;
    litPos = 0;
    litEnd = regenerated;
    return stop;
  }

  private byte[] litBuffer(int size) {
    if (litBuf.length < size) {
      litBuf = new byte[Math.max(size, Math.min(BLOCK_MAX, 2 * litBuf.length))];
    }
    return litBuf;
  }

  // ---- sequences ----

  private FseTable table(int mode, byte[] src, int[] posRef, int end, FseTable predefined,
      FseTable previous, int maxSymbol, int maxLog, String what) throws ZstdException {
    switch (mode) {
      case 0:
        return predefined;
      case 1: {
        int s = u8(src, posRef[0]++, end);
        if (s > maxSymbol) {
          throw new ZstdException(what + " RLE symbol " + s + " is out of range");
        }
        return FseTable.rle(s);
      }
      case 2: {
        FseTable.Read r = FseTable.read(src, posRef[0], end, maxSymbol, maxLog, what);
        posRef[0] = r.end();
        return r.table();
      }
      default:
        if (previous == null) {
          throw new ZstdException(what + " table repeated without a previous one");
        }
        return previous;
    }
  }

  /** Reads and executes the sequences section at {@code pos}; returns the offset after it. */
  private int sequences(byte[] src, int pos, int end) throws ZstdException {
    int b0 = u8(src, pos++, end);
    int count;
    if (b0 < 128) {
      count = b0;
    } else if (b0 < 255) {
      count = ((b0 - 128) << 8) + u8(src, pos++, end);
    } else {
      count = u8(src, pos, end) + (u8(src, pos + 1, end) << 8) + 0x7F00;
      pos += 2;
    }
    if (count == 0) {
      if (pos != end) {
        throw new ZstdException("bytes after an empty sequences section");
      }
      copyLiterals(litEnd - litPos);
      return pos;
    }
    int modes = u8(src, pos++, end);
    if ((modes & 3) != 0) {
      throw new ZstdException("sequences section has reserved bits set");
    }
    int[] p = {pos};
    llTable = table(modes >>> 6, src, p, end, Sequences.LL_DEFAULT, llTable, Sequences.MAX_LL,
        Sequences.LL_LOG, "literal lengths");
    ofTable = table((modes >>> 4) & 3, src, p, end, Sequences.OF_DEFAULT, ofTable,
        Sequences.MAX_OF, Sequences.OF_LOG, "offsets");
    mlTable = table((modes >>> 2) & 3, src, p, end, Sequences.ML_DEFAULT, mlTable,
        Sequences.MAX_ML, Sequences.ML_LOG, "match lengths");
    pos = p[0];

    BackwardBitReader in = new BackwardBitReader(src, pos, end, "sequences");
    int[] ll = llTable.entries;
    int[] of = ofTable.entries;
    int[] ml = mlTable.entries;
    int llState = in.readInt(llTable.log);
    int ofState = in.readInt(ofTable.log);
    int mlState = in.readInt(mlTable.log);
    for (int i = 0; i < count; i++) {
      int llE = ll[llState];
      int ofE = of[ofState];
      int mlE = ml[mlState];
      int ofCode = FseTable.symbol(ofE);
      int mlCode = FseTable.symbol(mlE);
      int llCode = FseTable.symbol(llE);
      long offsetValue = (1L << ofCode) + in.read(ofCode);
      int matchLength = Sequences.ML_BASE[mlCode] + in.readInt(Sequences.ML_BITS[mlCode]);
      int literalLength = Sequences.LL_BASE[llCode] + in.readInt(Sequences.LL_BITS[llCode]);
      long offset;
      if (offsetValue > 3) {
        offset = offsetValue - 3;
        rep[2] = rep[1];
        rep[1] = rep[0];
        rep[0] = (int) Math.min(offset, Integer.MAX_VALUE);
      } else {
        int idx = (int) offsetValue - 1 + (literalLength == 0 ? 1 : 0);
        if (idx == 0) {
          offset = rep[0];
        } else {
          offset = idx == 3 ? rep[0] - 1L : rep[idx];
          if (offset == 0) {
            throw new ZstdException("repeat offset of zero");
          }
          if (idx != 1) {
            rep[2] = rep[1];
          }
          rep[1] = rep[0];
          rep[0] = (int) offset;
        }
      }
      if (i != count - 1) {
        llState = FseTable.base(llE) + in.readInt(FseTable.bits(llE));
        mlState = FseTable.base(mlE) + in.readInt(FseTable.bits(mlE));
        ofState = FseTable.base(ofE) + in.readInt(FseTable.bits(ofE));
      }
      if (in.remaining() < 0) {
        throw new ZstdException("sequences bitstream overrun");
      }
      copyLiterals(literalLength);
      copyMatch(offset, matchLength);
    }
    if (in.remaining() != 0) {
      throw new ZstdException("sequences bitstream does not end where it should");
    }
    copyLiterals(litEnd - litPos);
    return end;
  }

  private void copyLiterals(int n) throws ZstdException {
    if (n > litEnd - litPos) {
      throw new ZstdException("sequence takes more literals than the block has");
    }
    room(n);
    System.arraycopy(lit, litPos, dst, op, n);
    litPos += n;
    op += n;
  }

  private void copyMatch(long offset, int length) throws ZstdException {
    if (offset > op - frameStart) {
      throw new ZstdException("match offset " + offset + " points before the start of the frame");
    }
    room(length);
    int from = op - (int) offset;
    if (offset >= length) {
      System.arraycopy(dst, from, dst, op, length);
      op += length;
      return;
    }
    // overlapping: the pattern of length offset repeats; copy ever longer runs of it
    int stop = op + length;
    while (op < stop) {
      int n = Math.min(stop - op, op - from);
      System.arraycopy(dst, from, dst, op, n);
      op += n;
    }
  }
}
