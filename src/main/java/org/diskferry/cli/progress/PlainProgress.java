package org.diskferry.cli.progress;

import java.io.PrintStream;
import java.time.Duration;
import java.util.Objects;
import java.util.function.LongSupplier;

/**
 * Progress as plain log lines, for stderr that is not a terminal (cron mail, CI logs): no control
 * characters, no redrawing.
 *
 * <ul>
 *   <li>one line when a phase begins, e.g. {@code creating disk};
 *   <li>at most one progress line per interval (default 10 s), e.g. {@code uploading: 1.50 GiB /
 *       4.00 GiB (37%), 512.3 MiB/s, ETA 0:05}; the rate is the one since the previous line;
 *   <li>one line when a phase reaches 100%, with the average rate and the time taken, even if it
 *       comes sooner than the interval, so that short transfers leave a figure in the log too;
 *   <li>{@code diskferry: warning: ...} lines always, retries always, info lines only with {@code
 *       -v}.
 * </ul>
 *
 * <p>Thread-safe: progress may come from several worker threads, even slightly out of order; a
 * figure lower than one already seen in the same phase is ignored.
 */
public final class PlainProgress implements ProgressRenderer {

  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(10);

  private final PrintStream err;
  private final boolean verbose;
  private final long intervalNanos;
  private final LongSupplier nanoClock;

  // All below guarded by this.
  private String phase;
  private boolean started;
  private long startNanos;
  private long startBytes;
  private long lastLineNanos;
  private long lastLineBytes;
  private long maxTransferred;
  private boolean finished;

  public PlainProgress(PrintStream err, boolean verbose) {
    this(err, verbose, DEFAULT_INTERVAL, System::nanoTime);
  }

  /**
   * @param interval the least time between two progress lines
   * @param nanoClock a monotonic clock in nanoseconds ({@code System::nanoTime}; a fake in tests)
   */
  public PlainProgress(
      PrintStream err, boolean verbose, Duration interval, LongSupplier nanoClock) {
    this.err = Objects.requireNonNull(err, "err");
    this.verbose = verbose;
    this.intervalNanos = Objects.requireNonNull(interval, "interval").toNanos();
    this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
  }

  @Override
  public synchronized void phase(String newPhase) {
    String name = Events.oneLine(newPhase);
    if (name.equals(phase)) {
      return;
    }
    phase = name;
    started = false;
    finished = false;
    line(name);
  }

  @Override
  public synchronized void progress(long transferred, long size) {
    long now = nanoClock.getAsLong();
    if (!started) {
      started = true;
      startNanos = now;
      startBytes = transferred;
      lastLineNanos = now;
      lastLineBytes = transferred;
      maxTransferred = transferred;
      if (size > 0 && transferred >= size) {
        finish(transferred, size, now);
      }
      return;
    }
    if (finished || transferred < maxTransferred) {
      return;
    }
    maxTransferred = transferred;
    if (size > 0 && transferred >= size) {
      finish(transferred, size, now);
      return;
    }
    long sinceLast = now - lastLineNanos;
    if (sinceLast < intervalNanos) {
      return;
    }
    double rate = (transferred - lastLineBytes) / (sinceLast / 1e9);
    StringBuilder sb =
        new StringBuilder(label()).append(": ").append(ByteSizes.format(transferred));
    if (size > 0) {
      sb.append(" / ")
          .append(ByteSizes.format(size))
          .append(" (")
          .append(Events.percent(transferred, size))
          .append("%)");
    }
    sb.append(", ").append(ByteSizes.formatRate(rate));
    if (size > 0) {
      sb.append(", ETA ");
      sb.append(rate > 0 ? Events.duration(Math.round((size - transferred) / rate)) : "?");
    }
    lastLineNanos = now;
    lastLineBytes = transferred;
    line(sb.toString());
  }

  private void finish(long transferred, long size, long now) {
    finished = true;
    long elapsed = now - startNanos;
    StringBuilder sb =
        new StringBuilder(label())
            .append(": ")
            .append(ByteSizes.format(transferred))
            .append(" / ")
            .append(ByteSizes.format(size))
            .append(" (100%)");
    if (elapsed > 0 && transferred > startBytes) {
      sb.append(", ").append(ByteSizes.formatRate((transferred - startBytes) / (elapsed / 1e9)));
    }
    sb.append(", done in ").append(Events.duration(Math.round(elapsed / 1e9)));
    line(sb.toString());
  }

  @Override
  public void info(String message) {
    if (verbose) {
      line(Events.infoLine(message));
    }
  }

  @Override
  public void warn(String message) {
    line(Events.warningLine(message));
  }

  @Override
  public void retry(String what, int attempt, Throwable cause) {
    line(Events.retryLine(what, attempt, cause));
  }

  @Override
  public void close() {
    err.flush();
  }

  private String label() {
    return phase == null ? "transferring" : phase;
  }

  private void line(String text) {
    err.println(text);
    err.flush();
  }
}
