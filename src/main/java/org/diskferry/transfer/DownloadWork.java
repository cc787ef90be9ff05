package org.diskferry.transfer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.function.LongConsumer;

/** Fetches data ranges into the target file; zero ranges are never requested nor written. */
final class DownloadWork implements WorkerPool.RangeWork {
  private final WorkerPool pool;
  private final DownloadFile out;
  private final TransferSession session;

  DownloadWork(WorkerPool pool, DownloadFile out, TransferSession session) {
    this.pool = pool;
    this.out = out;
    this.session = session;
  }

  /**
   * The disk's extents as its server reports them, or the whole disk as data when it cannot; cut
   * to the disk's size.
   */
  static List<DataChannel.Extent> extents(TransferSession session) {
    List<DataChannel.Extent> extents;
    try {
      extents =
          session
              .data()
              .extents()
              .orElse(List.of(new DataChannel.Extent(0, session.size(), false)));
    } catch (IOException e) {
      extents = List.of(new DataChannel.Extent(0, session.size(), false));
    }
    return clip(extents, session.size());
  }

  /** The bytes of data (not zeros) in these extents: what a download writes at the least. */
  static long dataBytes(List<DataChannel.Extent> extents) {
    long n = 0;
    for (DataChannel.Extent e : extents) {
      n += e.zero() ? 0 : e.length();
    }
    return n;
  }

  private static List<DataChannel.Extent> clip(List<DataChannel.Extent> extents, long size) {
    return extents.stream()
        .filter(e -> e.start() < size)
        .map(
            e ->
                e.start() + e.length() > size
                    ? new DataChannel.Extent(e.start(), size - e.start(), e.zero())
                    : e)
        .toList();
  }

  @Override
  public long move(Range range, ByteBuffer buffer, LongConsumer moved) throws IOException {
    if (!range.zero()) {
      if (pool.interruptReason() != null) {
        throw new WorkerPool.Stopped(); // not a new request once interrupted
      }
      pool.withRetries(
          "GET bytes " + range.start() + "-" + (range.end() - 1),
          () ->
              session
                  .data()
                  .read(
                      range.start(), range.length(), out.file,
                      out.offset(range.start(), range.length()), buffer));
    }
    moved.accept(range.length());
    return range.zero() ? 0 : range.length();
  }
}
