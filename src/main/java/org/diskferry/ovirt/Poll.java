package org.diskferry.ovirt;

import java.time.Duration;
import java.util.Optional;
import java.util.function.Supplier;
import org.diskferry.error.DiskferryException;

/**
 * Waits for a condition with back-off: checks at once, then sleeps 0.2 s, growing by half each
 * time up to 3 s, so that short phases cost little and long waits do not hammer the engine.
 */
public final class Poll {

  static final long FIRST_DELAY_MS = 200;
  static final long MAX_DELAY_MS = 3000;

  private Poll() {}

  /**
   * Calls {@code check} until it returns a value or {@code timeout} has passed.
   *
   * @param what what is awaited, for the timeout message ("disk X to become ok")
   * @throws DiskferryException FAILED "timed out after Ns waiting for WHAT"; TRANSIENT when the
   *     thread is interrupted (the interrupt flag is set again); anything {@code check} throws
   */
  public static <T> T until(Duration timeout, String what, Supplier<Optional<T>> check) {
    return until(timeout, () -> what, check);
  }

  /** As {@link #until(Duration, String, Supplier)}, describing the wait only when it times out. */
  public static <T> T until(
      Duration timeout, Supplier<String> what, Supplier<Optional<T>> check) {
    long deadline = System.nanoTime() + timeout.toNanos();
    long delay = FIRST_DELAY_MS;
    while (true) {
      if (Thread.currentThread().isInterrupted()) {
        throw interrupted(what.get(), null);
      }
      Optional<T> result = check.get();
      if (result.isPresent()) {
        return result.get();
      }
      long remainingMs = (deadline - System.nanoTime()) / 1_000_000;
      if (remainingMs <= 0) {
        throw DiskferryException.failed(
            "timed out after " + seconds(timeout) + " waiting for " + what.get());
      }
      try {
        Thread.sleep(Math.min(delay, remainingMs));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw interrupted(what.get(), e);
      }
      delay = Math.min(MAX_DELAY_MS, delay * 3 / 2);
    }
  }

  private static DiskferryException interrupted(String what, InterruptedException cause) {
    return new DiskferryException(
        DiskferryException.Kind.TRANSIENT, "interrupted while waiting for " + what, cause);
  }

  /** "60s", or "0.5s" for a timeout that is not a whole number of seconds. */
  static String seconds(Duration d) {
    long ms = d.toMillis();
    if (ms % 1000 == 0) {
      return (ms / 1000) + "s";
    }
    return java.math.BigDecimal.valueOf(ms, 3).stripTrailingZeros().toPlainString() + "s";
  }
}
