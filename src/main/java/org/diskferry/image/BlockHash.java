package org.diskferry.image;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.HexFormat;
import java.util.List;

/**
 * imageio's "blkhash" checksum of the guest-visible image: BLAKE2b-256 of each {@code blockSize}
 * block (the last one may be short), then BLAKE2b-256 of the concatenated block digests, as hex.
 * Equal to the {@code checksum} of imageio's {@code {"algorithm": "blake2b", "block_size":
 * 4194304, ...}} answer and to {@code ovirt_imageio.client.checksum()}.
 *
 * <p>Blocks that lie entirely in zero extents are not read: they take a cached digest of a zero
 * block, so sparse images hash quickly. Zero extents inside data blocks are hashed without
 * reading them.
 */
public final class BlockHash {
  private BlockHash() {}

  /** imageio's default block size, 4 MiB. */
  public static final int DEFAULT_BLOCK_SIZE = 4 << 20;
  /** The algorithm name imageio reports. */
  public static final String ALGORITHM = "blake2b";

  private static final int DIGEST = 32;
  private static final int CHUNK = 1 << 20;
  private static final byte[] ZEROS = new byte[CHUNK];

  /** The checksum with the default 4 MiB blocks. */
  public static String compute(ImageReader reader) throws IOException {
    return compute(reader, DEFAULT_BLOCK_SIZE);
  }

  /** The checksum with {@code blockSize}-byte blocks. */
  public static String compute(ImageReader reader, int blockSize) throws IOException {
    if (blockSize <= 0) {
      throw new IllegalArgumentException("block size must be positive, not " + blockSize);
    }
    long size = reader.size();
    List<Extent> extents = reader.extents();
    Blake2b outer = new Blake2b(DIGEST);
    Blake2b inner = new Blake2b(DIGEST);
    ByteBuffer buf = ByteBuffer.allocate(Math.min(CHUNK, blockSize));
    byte[] zeroBlockDigest = null;
    int ei = 0;
    for (long off = 0; off < size; off += blockSize) {
      long end = Math.min(size, off + blockSize);
      while (ei < extents.size() && extents.get(ei).end() <= off) {
        ei++;
      }
      byte[] d;
      if (allZero(extents, ei, off, end)) {
        if (end - off == blockSize) {
          if (zeroBlockDigest == null) {
            zeroBlockDigest = zeroDigest(inner, blockSize);
          }
          d = zeroBlockDigest;
        } else {
          d = zeroDigest(inner, end - off);
        }
      } else {
        inner.reset();
        int i = ei;
        for (long pos = off; pos < end; ) {
          Extent e = extents.get(i);
          long stop = Math.min(end, e.end());
          if (e.zero()) {
            hashZeros(inner, stop - pos);
          } else {
            hashData(reader, inner, buf, pos, stop);
          }
          pos = stop;
          if (pos == e.end()) {
            i++;
          }
        }
        d = inner.digest();
      }
      outer.update(d, 0, d.length);
    }
    return HexFormat.of().formatHex(outer.digest());
  }

  private static boolean allZero(List<Extent> extents, int i, long off, long end) {
    for (; i < extents.size() && extents.get(i).start() < end; i++) {
      if (!extents.get(i).zero()) {
        return false;
      }
    }
    return true;
  }

  private static byte[] zeroDigest(Blake2b h, long len) {
    h.reset();
    hashZeros(h, len);
    return h.digest();
  }

  private static void hashZeros(Blake2b h, long len) {
    while (len > 0) {
      int n = (int) Math.min(len, ZEROS.length);
      h.update(ZEROS, 0, n);
      len -= n;
    }
  }

  private static void hashData(ImageReader r, Blake2b h, ByteBuffer buf, long pos, long end)
      throws IOException {
    while (pos < end) {
      buf.clear().limit((int) Math.min(buf.capacity(), end - pos));
      while (buf.hasRemaining()) {
        int n = r.read(pos + buf.position(), buf);
        if (n < 0) {
          throw new EOFException("image ended at " + (pos + buf.position()) + " while hashing");
        }
      }
      buf.flip();
      pos += buf.remaining();
      h.update(buf);
    }
  }
}
