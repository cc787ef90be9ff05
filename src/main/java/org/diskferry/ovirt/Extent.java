package org.diskferry.ovirt;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * One entry of {@code GET /images/<ticket>/extents}.
 *
 * @param zero the range reads as zeroes
 * @param hole the range is unallocated (qcow2 only)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Extent(long start, long length, boolean zero, boolean hole) {

  /** The offset just past this extent. */
  public long end() {
    return start + length;
  }
}
