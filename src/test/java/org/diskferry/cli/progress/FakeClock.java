package org.diskferry.cli.progress;

import java.time.Duration;
import java.util.function.LongSupplier;

/** A nanosecond clock that moves only when told. */
final class FakeClock implements LongSupplier {
  private long nanos = 1_000_000_000L;

  @Override
  public synchronized long getAsLong() {
    return nanos;
  }

  synchronized void advance(Duration d) {
    nanos += d.toNanos();
  }

  void advanceSeconds(double seconds) {
    advance(Duration.ofNanos(Math.round(seconds * 1e9)));
  }
}
