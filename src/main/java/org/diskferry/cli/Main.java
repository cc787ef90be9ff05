package org.diskferry.cli;

import java.io.PrintStream;
import java.util.Map;

/** The diskferry command-line entry point. */
public final class Main {
  private Main() {}

  public static void main(String[] args) {
    System.exit(run(System.out, System.err, System.getenv(), true, args));
  }

  /** Runs diskferry in-process (for tests): no signal handlers, the real environment. */
  public static int run(PrintStream out, PrintStream err, String... args) {
    return run(out, err, System.getenv(), false, args);
  }

  /** Runs diskferry in-process with the given environment. */
  public static int run(PrintStream out, PrintStream err, Map<String, String> env, String... args) {
    return run(out, err, env, false, args);
  }

  static int run(
      PrintStream out, PrintStream err, Map<String, String> env, boolean signals, String... args) {
    return new Cli(out, err, env, signals).execute(args);
  }
}
