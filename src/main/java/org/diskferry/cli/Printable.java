package org.diskferry.cli;

import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * Text from servers and users (disk and image names, server messages) made safe for a terminal:
 * control characters (NUL, ESC, the C1 range, ...) are shown as {@code \xNN} instead of being
 * sent, so that an image name cannot move the cursor, clear the screen or hide a line.
 */
final class Printable {
  private Printable() {}

  /** {@code s} with every control character escaped, line breaks included (for one-line text). */
  static String line(String s) {
    return escape(s, false);
  }

  /** {@code s} with every control character but line feeds and tabs escaped. */
  static String text(String s) {
    return escape(s, true);
  }

  private static String escape(String s, boolean keepLines) {
    if (s == null) {
      return null;
    }
    StringBuilder b = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      boolean control = c < 0x20 || (c >= 0x7f && c <= 0x9f);
      if (control && keepLines && (c == '\n' || c == '\t')) {
        control = false;
      }
      if (control) {
        if (b == null) {
          b = new StringBuilder(s.length() + 8).append(s, 0, i);
        }
        b.append(String.format("\\x%02x", (int) c));
      } else if (b != null) {
        b.append(c);
      }
    }
    return b == null ? s : b.toString();
  }

  /**
   * A stream for text results on stdout that escapes control characters other than \n and \t
   * in every string printed (println and printf pass through {@code print(String)}).
   */
  static PrintStream stream(PrintStream out) {
    return new PrintStream(out, true, StandardCharsets.UTF_8) {
      @Override
      public void print(String s) {
        super.print(text(s));
      }

      @Override
      public void print(Object o) {
        print(String.valueOf(o));
      }
    };
  }
}
