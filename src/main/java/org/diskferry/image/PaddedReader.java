package org.diskferry.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

/**
 * An image seen as if it were followed by zeros up to a larger size: what a disk bigger than the
 * image it was filled from reads as, for comparing checksums of the whole disk.
 */
public final class PaddedReader implements ImageReader {
  private final ImageReader image;
  private final long size;

  public PaddedReader(ImageReader image, long size) {
    if (size < image.size()) {
      throw new IllegalArgumentException("padded size " + size + " < image size " + image.size());
    }
    this.image = image;
    this.size = size;
  }

  @Override
  public long size() {
    return size;
  }

  @Override
  public List<Extent> extents() throws IOException {
    List<Extent> out = new ArrayList<>(image.extents());
    if (size > image.size()) {
      out.add(new Extent(image.size(), size - image.size(), true));
    }
    return out;
  }

  @Override
  public int read(long offset, ByteBuffer dst) throws IOException {
    if (offset >= size || !dst.hasRemaining()) {
      return offset >= size && dst.hasRemaining() ? -1 : 0;
    }
    int want = (int) Math.min(dst.remaining(), size - offset);
    int done = 0;
    if (offset < image.size()) {
      ByteBuffer part = dst.duplicate();
      part.limit(part.position() + (int) Math.min(want, image.size() - offset));
      int n;
      while (part.hasRemaining() && (n = image.read(offset + done, part)) > 0) {
        done += n;
      }
      dst.position(dst.position() + done);
    }
    while (done < want) {
      dst.put((byte) 0);
      done++;
    }
    return done;
  }

  /** Does not close the wrapped image: its owner does. */
  @Override
  public void close() {}
}
