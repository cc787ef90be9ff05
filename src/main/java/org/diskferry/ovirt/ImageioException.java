package org.diskferry.ovirt;

import java.time.Duration;
import org.diskferry.transfer.TransientIOException;

/**
 * An imageio server error (5xx): the request may succeed if sent again. Upload callers resend
 * everything written since the last successful flush.
 */
public class ImageioException extends TransientIOException {

  private final int status;

  public ImageioException(int status, String message) {
    this(status, message, null);
  }

  public ImageioException(int status, String message, Duration retryAfter) {
    super(message, retryAfter);
    this.status = status;
  }

  /** The HTTP status, e.g. 500. */
  public int status() {
    return status;
  }
}
