package org.diskferry.cli;

import java.util.function.Consumer;

/**
 * SIGINT and SIGTERM handling for a running transfer: the first signal asks the transfer to stop
 * cleanly; a second one ends the process at once.
 */
final class Signals {
  private static volatile int received;

  private Signals() {}

  /** 130 after SIGINT, 143 after SIGTERM, 130 when no signal was seen (an in-process interrupt). */
  static int exitCode() {
    return received == 0 ? 130 : 128 + received;
  }

  /** Installs handlers that call {@code onSignal} with the signal's name. */
  @SuppressWarnings("removal")
  static void install(Consumer<String> onSignal) {
    for (String name : new String[] {"INT", "TERM"}) {
      try {
        sun.misc.Signal.handle(
            new sun.misc.Signal(name),
            sig -> {
              if (received != 0) {
                Runtime.getRuntime().halt(128 + sig.getNumber());
              }
              received = sig.getNumber();
              onSignal.accept("SIG" + sig.getName());
            });
      } catch (IllegalArgumentException | LinkageError e) {
        // The platform does not let us handle it; the JVM default (exit) applies.
      }
    }
  }
}
