package org.diskferry.image;

/**
 * A range of the guest-visible image.
 *
 * @param start offset in bytes
 * @param length length in bytes, greater than zero
 * @param zero {@code true} if the range reads as zeros (a hole, an unallocated or zero cluster);
 *     {@code false} if it holds data, which may still contain zeros
 */
public record Extent(long start, long length, boolean zero) {
  public Extent {
    if (start < 0 || length <= 0) {
      throw new IllegalArgumentException("bad extent " + start + "+" + length);
    }
  }

  /** The offset just past this extent. */
  public long end() {
    return start + length;
  }
}
