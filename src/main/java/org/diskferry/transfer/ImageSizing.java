package org.diskferry.transfer;

import java.io.IOException;
import java.util.List;
import org.diskferry.image.Extent;
import org.diskferry.image.ImageFormat;
import org.diskferry.image.ImageInfo;
import org.diskferry.image.ImageReader;
import org.diskferry.image.Qcow2Measure;
import org.diskferry.image.RawReader;

/**
 * What a new disk must be to hold an image.
 *
 * @param virtualSize the image's guest-visible size: the disk's provisioned size
 * @param initialSize bytes a sparse qcow2 disk needs for the image's data (like {@code qemu-img
 *     measure}), or null when the disk is not one
 * @param contentType {@code iso} for an ISO image, else {@code data}
 */
public record ImageSizing(long virtualSize, Long initialSize, String contentType) {

  /** Only the size is known: a data disk, no initial size. */
  public static ImageSizing of(long virtualSize) {
    return new ImageSizing(virtualSize, null, "data");
  }

  /**
   * Sizes the disk a request creates for an image: the initial size only for a new sparse qcow2
   * disk, measured from where the image holds data without reading it (a qcow2's cluster map, a
   * raw file's holes; a raw file whose holes cannot be found counts as fully allocated).
   */
  static ImageSizing of(ImageInfo info, ImageReader reader, TransferRequest req)
      throws IOException {
    String contentType = info.format() == ImageFormat.ISO ? "iso" : "data";
    long size = info.virtualSize();
    boolean sparseQcow2 =
        req.disk() == null && "qcow2".equalsIgnoreCase(req.format()) && !req.preallocated();
    if (!sparseQcow2) {
      return new ImageSizing(size, null, contentType);
    }
    List<Extent> extents;
    if (info.format() == ImageFormat.QCOW2) {
      extents = reader.extents();
    } else {
      extents = reader instanceof RawReader raw ? raw.allocation() : null;
      if (extents == null) {
        extents = size == 0 ? List.of() : List.of(new Extent(0, size, false));
      }
    }
    return new ImageSizing(size, Qcow2Measure.required(size, extents), contentType);
  }
}
