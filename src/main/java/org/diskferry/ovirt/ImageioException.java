package org.diskferry.ovirt;

import java.io.IOException;

/**
 * An imageio server error (5xx): the request may succeed if sent again. Upload callers resend
 * everything written since the last successful flush.
 */
public class ImageioException extends IOException {

  private final int status;

  public ImageioException(int status, String message) {
    super(message);
    this.status = status;
  }

  /** The HTTP status, e.g. 500. */
  public int status() {
    return status;
  }
}
