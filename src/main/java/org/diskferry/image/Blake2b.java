package org.diskferry.image;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

/**
 * BLAKE2b (RFC 7693), unkeyed, with a digest of 1 to 64 bytes; {@code new Blake2b(32)} is Python's
 * {@code hashlib.blake2b(digest_size=32)}, the hash imageio's checksum uses. Not thread-safe.
 */
public final class Blake2b {
  private static final long[] IV = {
    0x6a09e667f3bcc908L, 0xbb67ae8584caa73bL, 0x3c6ef372fe94f82bL, 0xa54ff53a5f1d36f1L,
    0x510e527fade682d1L, 0x9b05688c2b3e6c1fL, 0x1f83d9abfb41bd6bL, 0x5be0cd19137e2179L
  };
  private static final byte[][] SIGMA = {
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
    {14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3},
    {11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4},
    {7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8},
    {9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13},
    {2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9},
    {12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11},
    {13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10},
    {6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5},
    {10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0}
  };
  private static final VarHandle LE_LONG =
      MethodHandles.byteArrayViewVarHandle(long[].class, ByteOrder.LITTLE_ENDIAN);
  private static final int BLOCK = 128;

  private final int digestSize;
  private final long[] h = new long[8];
  private final byte[] buf = new byte[BLOCK];
  private final long[] m = new long[16];
  private final long[] v = new long[16];
  private int bufLen;
  private long t0;
  private long t1;

  /** A hasher with a digest of {@code digestSize} bytes (1..64). */
  public Blake2b(int digestSize) {
    if (digestSize < 1 || digestSize > 64) {
      throw new IllegalArgumentException("BLAKE2b digest size must be 1..64, not " + digestSize);
    }
    this.digestSize = digestSize;
    reset();
  }

  /** BLAKE2b-256 of {@code data}. */
  public static byte[] hash256(byte[] data) {
    Blake2b b = new Blake2b(32);
    b.update(data, 0, data.length);
    return b.digest();
  }

  public int digestSize() {
    return digestSize;
  }

  /** Starts over, as if newly made. */
  public void reset() {
    System.arraycopy(IV, 0, h, 0, 8);
    h[0] ^= 0x01010000L ^ digestSize;
    bufLen = 0;
    t0 = 0;
    t1 = 0;
  }

  public void update(byte[] b) {
    update(b, 0, b.length);
  }

  public void update(byte[] b, int off, int len) {
    if (len <= 0) {
      return;
    }
    // the last block is compressed differently, so keep at least one byte back until digest()
    if (bufLen > 0) {
      int n = Math.min(BLOCK - bufLen, len);
      System.arraycopy(b, off, buf, bufLen, n);
      bufLen += n;
      off += n;
      len -= n;
      if (len == 0) {
        return;
      }
      count(BLOCK);
      compress(buf, 0, false);
      bufLen = 0;
    }
    while (len > BLOCK) {
      count(BLOCK);
      compress(b, off, false);
      off += BLOCK;
      len -= BLOCK;
    }
    System.arraycopy(b, off, buf, 0, len);
    bufLen = len;
  }

  /** Hashes the remaining bytes of {@code src}, advancing its position. */
  public void update(ByteBuffer src) {
    if (src.hasArray()) {
      int n = src.remaining();
      update(src.array(), src.arrayOffset() + src.position(), n);
      src.position(src.position() + n);
      return;
    }
    byte[] tmp = new byte[Math.min(src.remaining(), 64 * 1024)];
    while (src.hasRemaining()) {
      int n = Math.min(tmp.length, src.remaining());
      src.get(tmp, 0, n);
      update(tmp, 0, n);
    }
  }

  /** Finishes the hash and returns the digest; the hasher must be {@link #reset} to reuse it. */
  public byte[] digest() {
    count(bufLen);
    Arrays.fill(buf, bufLen, BLOCK, (byte) 0);
    compress(buf, 0, true);
    byte[] out = new byte[digestSize];
    for (int i = 0; i < digestSize; i++) {
      out[i] = (byte) (h[i >>> 3] >>> (8 * (i & 7)));
    }
    return out;
  }

  private void count(long n) {
    t0 += n;
    if (Long.compareUnsigned(t0, n) < 0) {
      t1++;
    }
  }

  private void compress(byte[] block, int off, boolean last) {
    for (int i = 0; i < 16; i++) {
      m[i] = (long) LE_LONG.get(block, off + 8 * i);
    }
    System.arraycopy(h, 0, v, 0, 8);
    System.arraycopy(IV, 0, v, 8, 8);
    v[12] ^= t0;
    v[13] ^= t1;
    if (last) {
      v[14] = ~v[14];
    }
    for (int r = 0; r < 12; r++) {
      byte[] s = SIGMA[r % 10];
      g(0, 4, 8, 12, m[s[0]], m[s[1]]);
      g(1, 5, 9, 13, m[s[2]], m[s[3]]);
      g(2, 6, 10, 14, m[s[4]], m[s[5]]);
      g(3, 7, 11, 15, m[s[6]], m[s[7]]);
      g(0, 5, 10, 15, m[s[8]], m[s[9]]);
      g(1, 6, 11, 12, m[s[10]], m[s[11]]);
      g(2, 7, 8, 13, m[s[12]], m[s[13]]);
      g(3, 4, 9, 14, m[s[14]], m[s[15]]);
    }
    for (int i = 0; i < 8; i++) {
      h[i] ^= v[i] ^ v[i + 8];
    }
  }

  private void g(int a, int b, int c, int d, long x, long y) {
    long[] v = this.v;
    v[a] = v[a] + v[b] + x;
    v[d] = Long.rotateRight(v[d] ^ v[a], 32);
    v[c] = v[c] + v[d];
    v[b] = Long.rotateRight(v[b] ^ v[c], 24);
    v[a] = v[a] + v[b] + y;
    v[d] = Long.rotateRight(v[d] ^ v[a], 16);
    v[c] = v[c] + v[d];
    v[b] = Long.rotateRight(v[b] ^ v[c], 63);
  }
}
