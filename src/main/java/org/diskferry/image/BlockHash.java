package org.diskferry.image;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;

/**
 * imageio's "blkhash" checksum of the guest-visible image: BLAKE2b-256 of each {@code blockSize}
 * block (the last one may be short), then BLAKE2b-256 of the concatenated block digests, as hex.
 * Equal to the {@code checksum} of imageio's {@code {"algorithm": "blake2b", "block_size":
 * 4194304, ...}} answer and to {@code ovirt_imageio.client.checksum()}.
 *
 * <p>Blocks that lie entirely in zero extents are not read, and blocks that read as all zeros are
 * not hashed: both take a cached digest of a zero block, so sparse images hash quickly.
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
    // a raw reader's extents would scan its data for zeros: take only the file system's holes
    // (or nothing), since hashing reads the data anyway and spots all-zero blocks itself
    List<Extent> extents;
    if (reader instanceof RawReader raw) {
      extents = raw.allocation();
      if (extents == null) {
        extents = size == 0 ? List.of() : List.of(new Extent(0, size, false));
      }
    } else {
      extents = reader.extents();
    }
    Blake2b outer = new Blake2b(DIGEST);
    Blake2b inner = new Blake2b(DIGEST);
    ByteBuffer block = ByteBuffer.allocate(blockSize);
    byte[] zeroBlockDigest = null;
    int ei = 0;
    for (long off = 0; off < size; off += blockSize) {
      long end = Math.min(size, off + blockSize);
      int len = (int) (end - off);
      while (ei < extents.size() && extents.get(ei).end() <= off) {
        ei++;
      }
      boolean zero = allZero(extents, ei, off, end);
      if (!zero) {
        // read the data parts of the block; zero extents in it are not read
        block.clear().limit(len);
        int i = ei;
        for (long pos = off; pos < end; ) {
          Extent e = extents.get(i);
          long stop = Math.min(end, e.end());
          if (e.zero()) {
            putZeros(block, (int) (stop - pos));
          } else {
            readFully(reader, block, pos, (int) (stop - pos));
          }
          pos = stop;
          if (pos == e.end()) {
            i++;
          }
        }
        block.flip();
        zero = isZero(block);
      }
      byte[] d;
      if (zero && len == blockSize) {
        if (zeroBlockDigest == null) {
          zeroBlockDigest = zeroDigest(inner, blockSize);
        }
        d = zeroBlockDigest;
      } else if (zero) {
        d = zeroDigest(inner, len);
      } else {
        inner.reset();
        inner.update(block);
        d = inner.digest();
      }
      outer.update(d, 0, d.length);
    }
    return HexFormat.of().formatHex(outer.digest());
  }

  private static boolean isZero(ByteBuffer b) {
    byte[] a = b.array();
    int from = b.arrayOffset() + b.position();
    int to = from + b.remaining();
    for (int off = from; off < to; off += ZEROS.length) {
      int n = Math.min(ZEROS.length, to - off);
      if (Arrays.mismatch(a, off, off + n, ZEROS, 0, n) >= 0) {
        return false;
      }
    }
    return true;
  }

  private static void putZeros(ByteBuffer b, int n) {
    while (n > 0) {
      int k = Math.min(n, ZEROS.length);
      b.put(ZEROS, 0, k);
      n -= k;
    }
  }

  private static void readFully(ImageReader r, ByteBuffer b, long pos, int len)
      throws IOException {
    int limit = b.limit();
    int stop = b.position() + len;
    b.limit(stop);
    try {
      while (b.hasRemaining()) {
        int n = r.read(pos + len - b.remaining(), b);
        if (n < 0) {
          throw new EOFException("image ended at " + (pos + len - b.remaining()) + " while hashing");
        }
      }
    } finally {
      b.limit(limit);
    }
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
}
