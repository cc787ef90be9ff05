package org.diskferry.transfer;

import java.io.IOException;
import java.time.Duration;

/** A data-plane failure the server says is temporary (a 5xx answer), maybe with a Retry-After. */
public class TransientIOException extends IOException {
  private final Duration retryAfter;

  public TransientIOException(String message, Duration retryAfter) {
    super(message);
    this.retryAfter = retryAfter;
  }

  /** How long the server asked us to wait, or null. */
  public Duration retryAfter() {
    return retryAfter;
  }
}
