package org.diskferry.cli.progress;

import java.util.Locale;
import java.util.regex.Pattern;

/** Text helpers shared by the renderers. */
final class Events {

  /** A URL's path and query may hold an imageio ticket: keep only scheme and authority. */
  private static final Pattern URL_TAIL =
      Pattern.compile("(?i)\\b([a-z][a-z0-9+.-]*://[^/\\s?#]+)[/?#]\\S*");

  /** Userinfo in a URL ({@code https://user:secret@host}). */
  private static final Pattern USERINFO =
      Pattern.compile("(?i)\\b([a-z][a-z0-9+.-]*://)[^/\\s@]*@");

  private Events() {}

  /**
   * A one-line description of why something failed, safe to print: URL paths, queries and userinfo
   * are cut, because transfer URLs carry the ticket.
   */
  static String describe(Throwable cause) {
    if (cause == null) {
      return "unknown error";
    }
    String message = cause.getMessage();
    String text =
        message == null || message.isBlank()
            ? cause.getClass().getSimpleName()
            : cause.getClass().getSimpleName() + ": " + message;
    return redact(text);
  }

  /** Folds text to one line, so that one event stays one line. */
  static String oneLine(String text) {
    return text == null ? "" : text.strip().replaceAll("\\s*[\\r\\n]+\\s*", " ");
  }

  /** Removes what may be secret in URLs inside free text, and folds it to one line. */
  static String redact(String text) {
    String noUserinfo = USERINFO.matcher(oneLine(text)).replaceAll("$1");
    return URL_TAIL.matcher(noUserinfo).replaceAll("$1/...");
  }

  /** {@code 0:05}, {@code 12:34}, {@code 1:02:03}. */
  static String duration(long seconds) {
    if (seconds < 0) {
      seconds = 0;
    }
    long h = seconds / 3600;
    long m = (seconds % 3600) / 60;
    long s = seconds % 60;
    return h > 0
        ? String.format(Locale.ROOT, "%d:%02d:%02d", h, m, s)
        : String.format(Locale.ROOT, "%d:%02d", m, s);
  }

  /** The percentage, rounded down so that 100% means done. */
  static int percent(long transferred, long size) {
    if (size <= 0) {
      return 0;
    }
    if (transferred >= size) {
      return 100;
    }
    return (int) Math.min(99, Math.max(0, (transferred * 100.0) / size));
  }

  /** The stderr line for a diagnostic. */
  static String infoLine(String message) {
    return "diskferry: " + oneLine(message);
  }

  /** The stderr line for a warning. */
  static String warningLine(String message) {
    return "diskferry: warning: " + oneLine(message);
  }

  /** The stderr line for a retry. */
  static String retryLine(String what, int attempt, Throwable cause) {
    return "diskferry: retrying " + oneLine(what) + " (attempt " + attempt + "): "
        + describe(cause);
  }
}
