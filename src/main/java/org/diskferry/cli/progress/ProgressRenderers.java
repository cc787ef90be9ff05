package org.diskferry.cli.progress;

import java.io.PrintStream;

/** Picks how a command shows transfer progress on stderr. */
public final class ProgressRenderers {

  private ProgressRenderers() {}

  /**
   * The renderer for a command run. In order: {@code json} ({@code -o json}) gives JSON Lines, even
   * with {@code -q}, because a program reads them; {@code quiet} gives warnings only; {@code
   * terminal} gives a progress bar; otherwise plain lines every 10 s. With {@code json} and {@code
   * quiet} only warnings are written (as JSON Lines), as {@code -q} alone writes only warnings.
   *
   * <p>Close the result when the command ends (try-with-resources), so that a progress bar is
   * finished cleanly before the result is printed on stdout.
   *
   * @param terminal whether stderr is a terminal; the caller decides, e.g. {@code System.console()
   *     != null} unless {@code --no-progress}
   */
  public static ProgressRenderer choose(
      PrintStream err, boolean json, boolean quiet, boolean verbose, boolean terminal) {
    if (json) {
      return quiet ? new JsonLinesProgress(err, false).warningsOnly() : new JsonLinesProgress(err, verbose);
    }
    if (quiet) {
      return new QuietProgress(err);
    }
    if (terminal) {
      return new TerminalProgress(err, verbose);
    }
    return new PlainProgress(err, verbose);
  }
}
