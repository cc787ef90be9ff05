package org.diskferry.transfer;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How often and how patiently a data-plane request is tried again after a transient failure: a
 * dropped or refused connection, a timeout, a 5xx answer. Ranged PUTs and GETs, zeros and flushes
 * are idempotent, so a failed request is simply sent again. Errors that say the request itself is
 * wrong (400, 403, 416) are not {@link IOException}s here and are never retried.
 *
 * @param attemptsPerRequest tries of one request, the first included
 * @param retriesPerTransfer retries allowed over the whole transfer
 * @param firstDelay delay before the first retry; doubles each time
 * @param maxDelay the longest delay between two tries
 */
public record RetryPolicy(
    int attemptsPerRequest, int retriesPerTransfer, Duration firstDelay, Duration maxDelay) {

  /** What the commands use. */
  public static final RetryPolicy DEFAULT =
      new RetryPolicy(6, 100, Duration.ofMillis(500), Duration.ofSeconds(15));

  /** The least delay per retry after the data plane refused the session. */
  static final Duration SESSION_DELAY = Duration.ofMillis(500);

  /** Never retry. */
  public static final RetryPolicy NONE = new RetryPolicy(1, 0, Duration.ZERO, Duration.ZERO);

  /** True when this failure is worth another try. */
  public static boolean isTransient(Throwable t) {
    return t instanceof IOException;
  }

  /**
   * The delay before retry number {@code retry} (1 for the first): exponential with jitter
   * between half and all of it, and never shorter than the server's Retry-After.
   */
  public Duration delay(int retry, Throwable cause) {
    long base = firstDelay.toMillis() << Math.min(20, retry - 1);
    long capped = Math.min(base, maxDelay.toMillis());
    long jittered = capped / 2 + ThreadLocalRandom.current().nextLong(capped / 2 + 1);
    if (cause instanceof SessionLostException) {
      // The control plane renews a ticket on its own schedule (an engine poll, up to ~10 s):
      // hammering the data plane meanwhile only burns the retry budget.
      jittered = Math.max(jittered, Math.min(SESSION_DELAY.toMillis() * retry, maxDelay.toMillis()));
    }
    if (cause instanceof TransientIOException t && t.retryAfter() != null) {
      jittered = Math.max(jittered, Math.min(t.retryAfter().toMillis(), maxDelay.toMillis()));
    }
    return Duration.ofMillis(jittered);
  }
}
