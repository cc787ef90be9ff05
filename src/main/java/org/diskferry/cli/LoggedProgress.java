package org.diskferry.cli;

import java.util.function.Consumer;
import org.diskferry.cli.progress.ProgressRenderer;

/**
 * A progress renderer whose events (all but the byte counts) also go to the log file, so the log
 * holds what the user saw on stderr; their text is made {@link Printable} first (a server's
 * message must not drive the terminal). Closing it closes the renderer.
 */
final class LoggedProgress implements ProgressRenderer {
  private final ProgressRenderer shown;
  private final Consumer<String> log;

  LoggedProgress(ProgressRenderer shown, Consumer<String> log) {
    this.shown = shown;
    this.log = log;
  }

  @Override
  public void phase(String phase) {
    phase = Printable.line(phase);
    shown.phase(phase);
    log.accept("phase: " + phase);
  }

  @Override
  public void progress(long transferred, long size) {
    shown.progress(transferred, size);
  }

  @Override
  public void info(String message) {
    message = Printable.line(message);
    shown.info(message);
    log.accept(message);
  }

  @Override
  public void warn(String message) {
    message = Printable.line(message);
    shown.warn(message);
    log.accept("warning: " + message);
  }

  @Override
  public void retry(String what, int attempt, Throwable cause) {
    what = Printable.line(what);
    shown.retry(what, attempt, cause);
    log.accept("retry " + attempt + ": " + what + ": " + cause.getMessage());
  }

  @Override
  public void close() {
    shown.close();
  }
}
