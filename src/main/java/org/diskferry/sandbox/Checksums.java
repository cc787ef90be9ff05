package org.diskferry.sandbox;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Supplier;

/** imageio's blkhash checksum (blake2b-256 by default) over a ticket's image. */
final class Checksums {
  private Checksums() {}

  /** A streaming hash. */
  interface Hasher {
    void update(byte[] b, int off, int len);

    byte[] digest();
  }

  /** Python hashlib names supported by the sandbox. */
  static final Map<String, Supplier<Hasher>> ALGORITHMS = new LinkedHashMap<>();

  static {
    ALGORITHMS.put("blake2b", () -> new Blake2b(32));
    for (String[] a : new String[][] {
        {"md5", "MD5"}, {"sha1", "SHA-1"}, {"sha224", "SHA-224"}, {"sha256", "SHA-256"},
        {"sha384", "SHA-384"}, {"sha512", "SHA-512"}, {"sha512_224", "SHA-512/224"},
        {"sha512_256", "SHA-512/256"}, {"sha3_224", "SHA3-224"}, {"sha3_256", "SHA3-256"},
        {"sha3_384", "SHA3-384"}, {"sha3_512", "SHA3-512"}}) {
      try {
        MessageDigest.getInstance(a[1]);
      } catch (NoSuchAlgorithmException e) {
        continue;
      }
      ALGORITHMS.put(a[0], () -> jdk(a[1]));
    }
  }

  private static Hasher jdk(String name) {
    MessageDigest md;
    try {
      md = MessageDigest.getInstance(name);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    return new Hasher() {
      @Override
      public void update(byte[] b, int off, int len) {
        md.update(b, off, len);
      }

      @Override
      public byte[] digest() {
        return md.digest();
      }
    };
  }

  /** H(concatenation of H(block) for each block of the image). */
  static byte[] blkhash(Ticket t, String algorithm, int blockSize, byte[] buf) throws IOException {
    Supplier<Hasher> factory = ALGORITHMS.get(algorithm);
    Hasher outer = factory.get();
    byte[] zeroDigest = null;
    FileChannel ch = t.disk.channel();
    long size = t.size;
    for (long off = 0; off < size; off += blockSize) {
      int len = (int) Math.min(blockSize, size - off);
      byte[] d;
      if (t.disk.extents.segments(off, off + len, ExtentMap.DATA).isEmpty()) {
        if (len == blockSize) {
          if (zeroDigest == null) {
            zeroDigest = zeroDigest(factory, len, buf);
          }
          d = zeroDigest;
        } else {
          d = zeroDigest(factory, len, buf);
        }
      } else {
        Hasher inner = factory.get();
        long pos = off;
        long left = len;
        while (left > 0) {
          int want = (int) Math.min(buf.length, left);
          ByteBuffer bb = ByteBuffer.wrap(buf, 0, want);
          while (bb.hasRemaining()) {
            int n = ch.read(bb, pos + bb.position());
            if (n < 0) {
              Arrays.fill(buf, bb.position(), want, (byte) 0);
              bb.position(want);
            }
          }
          inner.update(buf, 0, want);
          pos += want;
          left -= want;
        }
        d = inner.digest();
      }
      outer.update(d, 0, d.length);
    }
    return outer.digest();
  }

  private static byte[] zeroDigest(Supplier<Hasher> factory, int len, byte[] buf) {
    Arrays.fill(buf, (byte) 0);
    Hasher h = factory.get();
    for (int left = len; left > 0; ) {
      int n = Math.min(left, buf.length);
      h.update(buf, 0, n);
      left -= n;
    }
    return h.digest();
  }

  /** BLAKE2b (RFC 7693), unkeyed, with a digest of 1..64 bytes. */
  static final class Blake2b implements Hasher {
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

    private final int outLen;
    private final long[] h = IV.clone();
    private final byte[] block = new byte[128];
    private final long[] m = new long[16];
    private final long[] v = new long[16];
    private int blockLen;
    private long t0;
    private long t1;

    Blake2b(int outLen) {
      if (outLen < 1 || outLen > 64) {
        throw new IllegalArgumentException("digest size " + outLen);
      }
      this.outLen = outLen;
      h[0] ^= 0x01010000L ^ outLen;
    }

    @Override
    public void update(byte[] b, int off, int len) {
      while (len > 0) {
        if (blockLen == 128) {
          count(128);
          compress(false);
          blockLen = 0;
        }
        int n = Math.min(128 - blockLen, len);
        System.arraycopy(b, off, block, blockLen, n);
        blockLen += n;
        off += n;
        len -= n;
      }
    }

    private void count(long n) {
      t0 += n;
      if (Long.compareUnsigned(t0, n) < 0) {
        t1++;
      }
    }

    @Override
    public byte[] digest() {
      count(blockLen);
      Arrays.fill(block, blockLen, 128, (byte) 0);
      compress(true);
      byte[] out = new byte[outLen];
      for (int i = 0; i < outLen; i++) {
        out[i] = (byte) (h[i >>> 3] >>> (8 * (i & 7)));
      }
      return out;
    }

    private void compress(boolean last) {
      for (int i = 0; i < 16; i++) {
        long w = 0;
        for (int j = 7; j >= 0; j--) {
          w = (w << 8) | (block[i * 8 + j] & 0xffL);
        }
        m[i] = w;
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
}
