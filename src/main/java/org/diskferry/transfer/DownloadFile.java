package org.diskferry.transfer;

import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.diskferry.image.Extent;
import org.diskferry.image.Qcow2Writer;

/**
 * The partial file a download writes: raw (a sparse file of the disk's size whose zero extents
 * stay holes) or qcow2 (a compact image laid out up front from the disk's extents, see {@link
 * Qcow2Writer}). Workers write each data range at {@link #offset} of {@link #file} (around the
 * page cache where the file system allows it: see {@link UncachedFile}).
 */
abstract class DownloadFile implements AutoCloseable {
  final UncachedFile file;

  private DownloadFile(UncachedFile file) {
    this.file = file;
  }

  /**
   * Opens {@code part} for a disk of {@code size} bytes with these extents. A {@code fresh} file
   * starts empty; otherwise an existing partial file is continued, unless it cannot be (see
   * {@link #restarted}).
   */
  static DownloadFile open(
      String format, Path part, long size, List<DataChannel.Extent> extents, boolean fresh)
      throws IOException {
    return "qcow2".equals(format)
        ? Qcow2.open(part, size, extents, fresh)
        : Raw.open(part, size, fresh);
  }

  /**
   * Opens {@code part} afresh for an incremental backup's disk: a qcow2 overlay laid out by {@code
   * layout} ({@link Qcow2Writer#planOverlay}).
   */
  static DownloadFile overlay(Path part, Qcow2Writer layout) throws IOException {
    return Qcow2.open(part, layout, true);
  }

  /** Where the {@code length} disk bytes at {@code diskOffset} go in the file. */
  abstract long offset(long diskOffset, long length);

  /**
   * True when a partial file was there to continue but did not match this download (its layout
   * differs), so it was started over: every range must move again.
   */
  boolean restarted() {
    return false;
  }

  @Override
  public void close() throws IOException {
    file.close();
  }

  /** A sparse raw file: disk offset = file offset. */
  private static final class Raw extends DownloadFile {
    private Raw(UncachedFile file) {
      super(file);
    }

    static Raw open(Path part, long size, boolean fresh) throws IOException {
      UncachedFile file = UncachedFile.open(part);
      FileChannel ch = file.channel();
      try {
        if (fresh) {
          ch.truncate(0);
          // A sparse file of the disk's size: zero extents are never written, so they stay holes.
          if (size > 0) {
            ch.write(ByteBuffer.allocate(1), size - 1);
          }
        }
        return new Raw(file);
      } catch (IOException | RuntimeException e) {
        file.close();
        throw e;
      }
    }

    @Override
    long offset(long diskOffset, long length) {
      return diskOffset;
    }
  }

  /** A qcow2 v3 image with only the data clusters allocated. */
  private static final class Qcow2 extends DownloadFile {
    private final Qcow2Writer layout;
    private final boolean restarted;

    private Qcow2(UncachedFile file, Qcow2Writer layout, boolean restarted) {
      super(file);
      this.layout = layout;
      this.restarted = restarted;
    }

    static Qcow2 open(Path part, long size, List<DataChannel.Extent> extents, boolean fresh)
        throws IOException {
      List<Extent> data = new ArrayList<>(extents.size());
      for (DataChannel.Extent e : extents) {
        if (e.length() > 0) {
          data.add(new Extent(e.start(), e.length(), e.zero()));
        }
      }
      LocalImage.checkFormatFits("qcow2", size, "of this download");
      return open(part, Qcow2Writer.plan(size, data), fresh);
    }

    static Qcow2 open(Path part, Qcow2Writer layout, boolean fresh) throws IOException {
      boolean existed = !fresh && Files.isRegularFile(part);
      UncachedFile file = UncachedFile.open(part);
      FileChannel ch = file.channel();
      try {
        // The same extents give the same layout: a partial file written for them can go on.
        if (existed && layout.matches(ch)) {
          return new Qcow2(file, layout, false);
        }
        ch.truncate(0);
        layout.writeMetadata(ch);
        try (RandomAccessFile f = new RandomAccessFile(part.toFile(), "rw")) {
          f.setLength(layout.fileSize()); // sparse: data clusters not written yet read as zeros
        }
        return new Qcow2(file, layout, existed);
      } catch (IOException | RuntimeException e) {
        file.close();
        throw e;
      }
    }

    @Override
    long offset(long diskOffset, long length) {
      return layout.hostOffset(diskOffset, length);
    }

    @Override
    boolean restarted() {
      return restarted;
    }
  }
}
