package org.diskferry.image;

import java.nio.file.Path;
import java.util.List;

/** The file system's map of data and holes in a sparse file, where the JDK can reach it. */
final class SparseFiles {
  private SparseFiles() {}

  /**
   * The data ranges of {@code path} as {@code [start, end)} pairs within {@code [0, size)}, in
   * order, or {@code null} if the platform offers no way to ask.
   */
  static List<long[]> dataRanges(Path path, long size) {
    return null;
  }
}
