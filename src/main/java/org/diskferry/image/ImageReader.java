package org.diskferry.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;

/** Reads the guest-visible bytes of a local image. Implementations are thread-safe. */
public interface ImageReader extends AutoCloseable {

  /** The virtual size of the image in bytes. */
  long size();

  /**
   * The image as a list of extents, in order, covering {@code [0, size())} without gaps; adjacent
   * extents of the same kind are merged. Empty for an empty image.
   */
  List<Extent> extents() throws IOException;

  /**
   * Reads guest-visible bytes at {@code offset} into {@code dst}, filling it up to its remaining
   * space or up to the end of the image, whichever comes first. Positional: safe to call from
   * several threads at once.
   *
   * @return the number of bytes read, or -1 if {@code offset >= size()} and dst has room
   */
  int read(long offset, ByteBuffer dst) throws IOException;

  @Override
  void close() throws IOException;
}
