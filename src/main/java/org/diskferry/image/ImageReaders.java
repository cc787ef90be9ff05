package org.diskferry.image;

import java.io.IOException;
import java.nio.file.Path;

/** Opens the right {@link ImageReader} for an inspected image. */
public final class ImageReaders {
  private ImageReaders() {}

  /** A reader for {@code info}: {@link Qcow2Reader} for qcow2, {@link RawReader} for raw and ISO. */
  public static ImageReader open(ImageInfo info) throws IOException {
    switch (info.format()) {
      case QCOW2:
        return new Qcow2Reader(info.path(), info.qcow2());
      case RAW:
      case ISO:
        return new RawReader(info.path());
      default:
        throw new IllegalArgumentException("unknown format " + info.format());
    }
  }

  /** Inspects {@code path} and opens a reader for it. */
  public static ImageReader open(Path path) throws IOException {
    return open(ImageInspector.inspect(path));
  }
}
