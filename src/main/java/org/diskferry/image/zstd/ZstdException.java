package org.diskferry.image.zstd;

import java.io.IOException;

/** Zstandard data that is corrupt, truncated or uses a feature this decoder does not have. */
public final class ZstdException extends IOException {
  private static final long serialVersionUID = 1L;

  /** An error described by {@code message}. */
  public ZstdException(String message) {
    super(message);
  }
}
