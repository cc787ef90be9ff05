package org.diskferry.cli.progress;

import java.io.PrintStream;
import java.util.Objects;

/** For {@code -q}: no progress, no phases, no retries, no info; warnings only. Thread-safe. */
public final class QuietProgress implements ProgressRenderer {

  private final PrintStream err;

  public QuietProgress(PrintStream err) {
    this.err = Objects.requireNonNull(err, "err");
  }

  @Override
  public void warn(String message) {
    err.println(Events.warningLine(message));
    err.flush();
  }

  @Override
  public void close() {
    err.flush();
  }
}
