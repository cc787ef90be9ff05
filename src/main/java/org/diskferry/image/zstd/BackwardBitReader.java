package org.diskferry.image.zstd;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

/**
 * Reads a Zstandard backward bitstream: the stream is read from its last byte towards its first,
 * starting below the highest set bit of the last byte (the end mark), each value with its most
 * significant bit first. Bits below the start of the stream read as zeros; {@link #remaining()}
 * goes negative when more bits were taken than the stream holds, which callers treat as corrupt
 * (or, where the format says so, as the end of the data).
 */
final class BackwardBitReader {
  private static final VarHandle LE_LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);

  private final byte[] b;
  private final int start;
  /** Bits not yet read: the next value ends at bit {@code bitPos - 1} of the stream. */
  private int bitPos;

  /** The stream {@code b[start, end)}; throws if it is empty or its last byte has no end mark. */
  BackwardBitReader(byte[] b, int start, int end, String what) throws ZstdException {
    if (end <= start) {
      throw new ZstdException("empty " + what + " bitstream");
    }
    int last = b[end - 1] & 0xff;
    if (last == 0) {
      throw new ZstdException(what + " bitstream has no end mark");
    }
    this.b = b;
    this.start = start;
    this.bitPos = (end - start - 1) * 8 + (31 - Integer.numberOfLeadingZeros(last));
  }

  private long load(int idx) {
    if (idx + 8 <= b.length) {
      return (long) LE_LONG.get(b, idx);
    }
    long v = 0;
    for (int i = 0; idx + i < b.length && i < 8; i++) {
      v |= (b[idx + i] & 0xffL) << (8 * i);
    }
    return v;
  }

  /** The next {@code n} bits (0 to 56) without taking them. */
  long peek(int n) {
    int lo = bitPos - n;
    if (lo >= 0) {
      return (load(start + (lo >>> 3)) >>> (lo & 7)) & ((1L << n) - 1);
    }
    if (bitPos <= 0) {
      return 0;
    }
    return (load(start) & ((1L << bitPos) - 1)) << -lo;
  }

  /** Takes {@code n} bits already looked at with {@link #peek}. */
  void skip(int n) {
    bitPos -= n;
  }

  /** Takes and returns the next {@code n} bits (0 to 56). */
  long read(int n) {
    long v = peek(n);
    bitPos -= n;
    return v;
  }

  /** Takes and returns the next {@code n} bits (0 to 31). */
  int readInt(int n) {
    return (int) read(n);
  }

  /** Bits left; 0 when the stream was read exactly, negative when it was overrun. */
  int remaining() {
    return bitPos;
  }
}
