package org.diskferry.cli.progress;

import java.io.PrintStream;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.text.DecimalFormat;
import java.text.DecimalFormatSymbols;
import java.time.Duration;
import java.time.temporal.ChronoUnit;
import java.util.Locale;
import java.util.Objects;
import me.tongfei.progressbar.ConsoleProgressBarConsumer;
import me.tongfei.progressbar.ProgressBar;
import me.tongfei.progressbar.ProgressBarBuilder;
import me.tongfei.progressbar.ProgressBarStyle;

/**
 * Progress for a person at a terminal.
 *
 * <ul>
 *   <li>A phase without data (creating disk, waiting, finalizing) is shown as a status line that
 *       the next phase overwrites; with {@code -v} every phase stays as a line of its own.
 *   <li>The first progress call of a phase builds a progress bar (me.tongfei progressbar: bytes
 *       with a unit, %, rate, ETA), whose task name is the phase. Building it is what loads jline,
 *       so commands that move no data never load it. When the phase ends the bar is completed and
 *       stays on screen.
 *   <li>Warnings, retries and (with {@code -v}) info lines are printed above the bar or status
 *       line, which is then drawn again.
 *   <li>{@link #close()} finishes the bar and erases a status line, so that stdout starts on a
 *       clean line.
 * </ul>
 *
 * <p>Thread-safe. Use only when stderr is a terminal: the bar draws with {@code \r} and escape
 * sequences.
 */
public final class TerminalProgress implements ProgressRenderer {

  /** Carriage return and "erase to end of line". */
  private static final String CLEAR_LINE = "\r\u001b[K";

  private final PrintStream err;
  private final boolean verbose;

  // All below guarded by this.
  private String phase;
  private boolean statusShown;
  private ProgressBar bar;
  private long barMax;
  private long maxTransferred;
  private boolean closed;

  public TerminalProgress(PrintStream err, boolean verbose) {
    this.err = Objects.requireNonNull(err, "err");
    this.verbose = verbose;
  }

  @Override
  public synchronized void phase(String newPhase) {
    if (closed) {
      return;
    }
    String name = Events.oneLine(newPhase);
    if (name.equals(phase)) {
      return;
    }
    finishBar();
    phase = name;
    if (verbose) {
      printAbove(name);
    } else {
      showStatus();
    }
  }

  @Override
  public synchronized void progress(long transferred, long size) {
    if (closed) {
      return;
    }
    if (bar == null) {
      clearStatus();
      bar = newBar(transferred, size);
      barMax = size;
      maxTransferred = transferred;
      return;
    }
    if (size > 0 && size != barMax) {
      bar.maxHint(size);
      barMax = size;
    }
    if (transferred > maxTransferred) {
      maxTransferred = transferred;
      bar.stepTo(transferred);
    }
  }

  @Override
  public void info(String message) {
    if (verbose) {
      above(Events.infoLine(message));
    }
  }

  @Override
  public void warn(String message) {
    above(Events.warningLine(message));
  }

  @Override
  public void retry(String what, int attempt, Throwable cause) {
    above(Events.retryLine(what, attempt, cause));
  }

  /** Completes the bar (it stays on screen) and erases a status line. Safe to call twice. */
  @Override
  public synchronized void close() {
    if (closed) {
      return;
    }
    closed = true;
    finishBar();
    clearStatus();
    err.flush();
  }

  private synchronized void above(String line) {
    if (closed) {
      err.println(line);
      err.flush();
      return;
    }
    printAbove(line);
    if (bar != null) {
      bar.refresh();
    } else if (phase != null && !verbose) {
      showStatus();
    }
  }

  /** Prints a whole line over whatever is on the current line (bar or status). */
  private void printAbove(String line) {
    // One print call: PrintStream locks per call, so the bar's refresh thread cannot interleave.
    err.print(CLEAR_LINE + line + System.lineSeparator());
    err.flush();
    statusShown = false;
  }

  private void showStatus() {
    err.print(CLEAR_LINE + phase + "...");
    err.flush();
    statusShown = true;
  }

  private void clearStatus() {
    if (statusShown) {
      err.print(CLEAR_LINE);
      err.flush();
      statusShown = false;
    }
  }

  private void finishBar() {
    if (bar != null) {
      ProgressBar finished = bar;
      bar = null;
      finished.close(); // draws the last frame and ends the line
    }
  }

  private ProgressBar newBar(long transferred, long size) {
    String unit;
    long unitSize;
    if (size >= (1L << 20) || size <= 0) {
      unit = "MiB";
      unitSize = 1L << 20;
    } else if (size >= 1024) {
      unit = "KiB";
      unitSize = 1024;
    } else {
      unit = "B";
      unitSize = 1;
    }
    return new ProgressBarBuilder()
        .setTaskName(phase == null ? "transferring" : phase)
        .setInitialMax(size > 0 ? size : -1)
        .setStyle(unicode() ? ProgressBarStyle.UNICODE_BLOCK : ProgressBarStyle.ASCII)
        .setUnit(unit, unitSize)
        .showSpeed(new DecimalFormat("0.0", DecimalFormatSymbols.getInstance(Locale.ROOT)))
        .setSpeedUnit(ChronoUnit.SECONDS)
        .setUpdateIntervalMillis(500)
        // Rate and ETA count from here, which matters when a resumed transfer starts half done.
        .startsFrom(Math.max(0, transferred), Duration.ZERO)
        .setConsumer(new ConsoleProgressBarConsumer(err))
        .build();
  }

  /** Block characters only where the terminal's encoding can show them. */
  private static boolean unicode() {
    String encoding = System.getProperty("sun.stderr.encoding");
    if (encoding == null) {
      encoding = System.getProperty("stderr.encoding", System.getProperty("native.encoding"));
    }
    try {
      return encoding != null && Charset.forName(encoding).equals(StandardCharsets.UTF_8);
    } catch (IllegalArgumentException e) {
      return false;
    }
  }
}
