package org.diskferry.image;

import java.util.ArrayList;
import java.util.List;

/** Builds a list of extents, merging adjacent ranges of the same kind. */
final class ExtentList {
  private final List<Extent> out = new ArrayList<>();
  private long start = -1;
  private long end;
  private boolean zero;

  /** Appends {@code [s, s+len)}; must follow the previous range without a gap. */
  void add(long s, long len, boolean isZero) {
    if (len <= 0) {
      return;
    }
    if (start >= 0) {
      if (s != end) {
        throw new IllegalStateException("extent gap at " + end + " vs " + s);
      }
      if (isZero == zero) {
        end += len;
        return;
      }
      out.add(new Extent(start, end - start, zero));
    }
    start = s;
    end = s + len;
    zero = isZero;
  }

  List<Extent> build() {
    if (start >= 0) {
      out.add(new Extent(start, end - start, zero));
      start = -1;
    }
    return List.copyOf(out);
  }
}
