package org.diskferry.cli;

import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.function.UnaryOperator;

/**
 * SIGINT and SIGTERM handling for a running transfer: the first signal asks the transfer to stop
 * cleanly; a second one stops it now (what is open on the platform is ended with a short
 * deadline), prints one line and ends the process; a third ends it at once.
 */
final class Signals {
  private static volatile int received;
  private static final AtomicInteger count = new AtomicInteger();

  private Signals() {}

  /** 130 after SIGINT, 143 after SIGTERM, 130 when no signal was seen (an in-process interrupt). */
  static int exitCode() {
    return received == 0 ? 130 : 128 + received;
  }

  /** Installs handlers; a second signal ends the process without a word. */
  static void install(Consumer<String> onSignal) {
    install(onSignal, null, null);
  }

  /**
   * Installs handlers that call {@code onSignal} with the signal's name (e.g. {@code SIGINT}).
   * On a second signal, {@code onSecond} (with the name) ends what is open and returns the line
   * that {@code report} writes as an error (on stderr and in the log) before the process ends.
   */
  @SuppressWarnings("removal")
  static void install(
      Consumer<String> onSignal, UnaryOperator<String> onSecond, Consumer<String> report) {
    for (String name : new String[] {"INT", "TERM"}) {
      try {
        sun.misc.Signal.handle(
            new sun.misc.Signal(name),
            sig -> {
              int n = count.incrementAndGet();
              String what = "SIG" + sig.getName();
              if (n == 1) {
                received = sig.getNumber();
                onSignal.accept(what);
                return;
              }
              if (n == 2 && onSecond != null) {
                String line;
                try {
                  line = onSecond.apply(what);
                } catch (RuntimeException e) {
                  line = "interrupted again by " + what + ": " + e.getMessage();
                }
                report.accept(line);
              }
              Runtime.getRuntime().halt(exitCode());
            });
      } catch (IllegalArgumentException | LinkageError e) {
        // The platform does not let us handle it; the JVM default (exit) applies.
      }
    }
  }
}
