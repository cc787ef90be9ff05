package org.diskferry.image;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Reads a raw (or ISO) image: the file's bytes are the guest's bytes.
 *
 * <p>Extents come from the file system's data/hole map ({@code lseek} with {@code SEEK_DATA} /
 * {@code SEEK_HOLE}) when {@link SparseFiles} can reach it on the running JDK; otherwise from a
 * scan that reads the file in 1 MiB blocks and reports all-zero blocks as zero extents. Holes found
 * by the file system are refined by the same scan inside data ranges, so allocated zeros also
 * count as zero where they fill whole scan blocks.
 */
public final class RawReader implements ImageReader {
  /** Granularity of the zero scan. */
  static final int SCAN_BLOCK = 1 << 20;

  private final Path path;
  private final FileChannel ch;
  private final long size;

  public RawReader(Path path) throws IOException {
    this.path = path;
    this.ch = FileChannel.open(path, StandardOpenOption.READ);
    this.size = ch.size();
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public int read(long offset, ByteBuffer dst) throws IOException {
    if (offset < 0) {
      throw new IllegalArgumentException("negative offset " + offset);
    }
    if (offset >= size) {
      return dst.hasRemaining() ? -1 : 0;
    }
    int want = (int) Math.min(dst.remaining(), size - offset);
    int oldLimit = dst.limit();
    dst.limit(dst.position() + want);
    try {
      int done = 0;
      while (done < want) {
        int n = ch.read(dst, offset + done);
        if (n < 0) {
          throw new EOFException(path + " shrank while reading (at offset " + (offset + done) + ")");
        }
        done += n;
      }
      return done;
    } finally {
      dst.limit(oldLimit);
    }
  }

  @Override
  public List<Extent> extents() throws IOException {
    ExtentList out = new ExtentList();
    List<long[]> data = SparseFiles.dataRanges(path, size);
    if (data == null) {
      scan(0, size, out);
      return out.build();
    }
    long pos = 0;
    for (long[] r : data) {
      out.add(pos, r[0] - pos, true);
      scan(r[0], r[1], out);
      pos = r[1];
    }
    out.add(pos, size - pos, true);
    return out.build();
  }

  /**
   * The file system's data and holes as extents (holes zero), without reading any data; null
   * when the platform cannot tell (then only reading finds the zeros). Data extents may hold
   * zeros too.
   */
  public List<Extent> allocation() {
    List<long[]> data = SparseFiles.dataRanges(path, size);
    if (data == null) {
      return null;
    }
    ExtentList out = new ExtentList();
    long pos = 0;
    for (long[] r : data) {
      out.add(pos, r[0] - pos, true);
      out.add(r[0], r[1] - r[0], false);
      pos = r[1];
    }
    out.add(pos, size - pos, true);
    return out.build();
  }

  /** Adds extents for {@code [from, to)}, zero for every all-zero scan block. */
  private void scan(long from, long to, ExtentList out) throws IOException {
    ByteBuffer buf = ByteBuffer.allocateDirect(SCAN_BLOCK);
    ByteBuffer zeros = ByteBuffer.allocateDirect(SCAN_BLOCK);
    for (long off = from; off < to; ) {
      // align blocks to the scan grid so results do not depend on where a range starts
      long blockEnd = Math.min(to, (off / SCAN_BLOCK + 1) * SCAN_BLOCK);
      int len = (int) (blockEnd - off);
      buf.clear().limit(len);
      read(off, buf);
      buf.flip();
      zeros.clear().limit(len);
      out.add(off, len, buf.mismatch(zeros) < 0);
      off = blockEnd;
    }
  }

  @Override
  public void close() throws IOException {
    ch.close();
  }
}
