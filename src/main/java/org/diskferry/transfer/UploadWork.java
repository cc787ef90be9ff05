package org.diskferry.transfer;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.function.LongConsumer;
import org.diskferry.image.Extent;
import org.diskferry.image.ImageFormat;
import org.diskferry.image.ImageInfo;
import org.diskferry.image.ImageReader;
import org.diskferry.image.RawReader;
import org.diskferry.image.SourceFile;

/** Reads the source range by range; zero blocks are skipped or zeroed, never sent as data. */
final class UploadWork implements WorkerPool.RangeWork {
  private final WorkerPool pool;
  private final ImageReader in;
  private final TransferSession session;
  private final SourceFile source;

  /** @param source the source as it was when the upload began: a change fails the upload */
  UploadWork(WorkerPool pool, ImageReader in, TransferSession session, SourceFile source) {
    this.pool = pool;
    this.in = in;
    this.session = session;
    this.source = source;
  }

  /**
   * The ranges of an upload: a qcow2 image says where its zeros are, so those ranges are never
   * read; a raw image is read whole and its zero blocks found on the way. With a journal, only
   * what is not done yet.
   */
  static List<Range> plan(ImageInfo info, ImageReader reader, long rangeSize, Journal j)
      throws IOException {
    List<Range> ranges;
    if (info.format() == ImageFormat.QCOW2) {
      ranges = Range.split(toChannelExtents(reader.extents()), rangeSize);
    } else {
      // The file system's holes are never read; data is read and its zero blocks found then.
      List<Extent> holes = reader instanceof RawReader raw ? raw.allocation() : null;
      if (holes != null) {
        ranges = Range.split(toChannelExtents(holes), rangeSize);
      } else {
        ranges = Range.split(info.virtualSize(), rangeSize);
      }
    }
    if (j == null) {
      return ranges;
    }
    List<Range> todo = new ArrayList<>();
    for (Range r : ranges) {
      todo.addAll(j.remaining(r));
    }
    return todo;
  }

  private static List<DataChannel.Extent> toChannelExtents(List<Extent> extents) {
    List<DataChannel.Extent> out = new ArrayList<>(extents.size());
    for (Extent e : extents) {
      out.add(new DataChannel.Extent(e.start(), e.length(), e.zero()));
    }
    return out;
  }

  @Override
  public long move(Range range, ByteBuffer buffer, LongConsumer moved) throws IOException {
    DataChannel data = session.data();
    if (range.zero()) {
      zero(data, range.start(), range.length());
      moved.accept(range.length());
      return 0;
    }
    long sent = 0;
    long zeroStart = -1;
    long pos = range.start();
    while (pos < range.end()) {
      if (pool.interruptReason() != null) {
        throw new WorkerPool.Stopped();
      }
      int n = (int) Math.min(buffer.capacity(), range.end() - pos);
      buffer.clear().limit(n);
      try {
        readFully(in, buffer, pos);
      } catch (IOException e) {
        if (source.changed()) {
          throw source.changedError();
        }
        throw e;
      }
      buffer.flip();
      // Zeros at either end of the buffer, in 64 KiB blocks, are not sent either: data at odd
      // places in a sparse image then costs the disk about its own size, not whole buffers.
      int first = 0;
      while (first < n && blockIsZero(buffer, first, n)) {
        first += TRIM_BLOCK;
      }
      if (first >= n) {
        if (zeroStart < 0) {
          zeroStart = pos;
        }
      } else {
        int last = ((n - 1) / TRIM_BLOCK) * TRIM_BLOCK;
        while (last > first && blockIsZero(buffer, last, n)) {
          last -= TRIM_BLOCK;
        }
        int end = Math.min(n, last + TRIM_BLOCK);
        if (first > 0 && zeroStart < 0) {
          zeroStart = pos;
        }
        if (zeroStart >= 0) {
          zero(data, zeroStart, pos + first - zeroStart);
          zeroStart = -1;
        }
        long at = pos + first;
        ByteBuffer part = buffer.duplicate().limit(end).position(first);
        pool.withRetries(
            "PUT bytes " + at + "-" + (pos + end - 1),
            () -> data.write(at, part.duplicate()));
        sent += end - first;
        if (end < n) {
          zeroStart = pos + end;
        }
      }
      pos += n;
      moved.accept(n);
    }
    if (zeroStart >= 0) {
      zero(data, zeroStart, range.end() - zeroStart);
    }
    // What was read must be what the file held when the upload began.
    source.checkUnchanged();
    return sent;
  }

  private static final int TRIM_BLOCK = 64 << 10;

  private static boolean blockIsZero(ByteBuffer buffer, int from, int limit) {
    return ZeroBlocks.isZero(
        buffer.duplicate().limit(Math.min(limit, from + TRIM_BLOCK)).position(from));
  }

  private void zero(DataChannel data, long start, long length) {
    if (!session.targetReadsAsZeros()) {
      pool.withRetries(
          "zero bytes " + start + "-" + (start + length - 1), () -> data.zero(start, length));
    }
  }

  private static void readFully(ImageReader in, ByteBuffer buf, long pos) throws IOException {
    long p = pos;
    while (buf.hasRemaining()) {
      int n = in.read(p, buf);
      if (n < 0) {
        throw new EOFException("the source image shrank while it was being read");
      }
      p += n;
    }
  }
}
