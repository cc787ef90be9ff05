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

  /** BLAKE2b, from the image package, as a {@link Hasher}. */
  static final class Blake2b implements Hasher {
    private final org.diskferry.image.Blake2b b;

    Blake2b(int outLen) {
      b = new org.diskferry.image.Blake2b(outLen);
    }

    @Override
    public void update(byte[] data, int off, int len) {
      b.update(data, off, len);
    }

    @Override
    public byte[] digest() {
      return b.digest();
    }
  }
}
