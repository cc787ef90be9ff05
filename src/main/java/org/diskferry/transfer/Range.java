package org.diskferry.transfer;

import java.util.ArrayList;
import java.util.List;

/**
 * A contiguous piece of the image, the unit of work that workers take and that a resume can skip.
 *
 * @param start offset of the first byte
 * @param length number of bytes
 * @param zero true when the range is known to read as zeros (nothing to move)
 */
public record Range(long start, long length, boolean zero) {

  public long end() {
    return start + length;
  }

  /** Splits {@code [0, size)} into ranges of at most {@code rangeSize} bytes. */
  public static List<Range> split(long size, long rangeSize) {
    return split(List.of(new DataChannel.Extent(0, size, false)), rangeSize);
  }

  /**
   * Splits extents into ranges of at most {@code rangeSize} bytes; zero extents stay whole, as
   * they cost nothing to handle.
   */
  public static List<Range> split(List<DataChannel.Extent> extents, long rangeSize) {
    if (rangeSize <= 0) {
      throw new IllegalArgumentException("range size must be positive");
    }
    List<Range> out = new ArrayList<>();
    for (DataChannel.Extent e : extents) {
      if (e.zero()) {
        if (e.length() > 0) {
          out.add(new Range(e.start(), e.length(), true));
        }
        continue;
      }
      for (long off = e.start(); off < e.start() + e.length(); off += rangeSize) {
        out.add(new Range(off, Math.min(rangeSize, e.start() + e.length() - off), false));
      }
    }
    return out;
  }
}
