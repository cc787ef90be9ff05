package org.diskferry.http;

import java.io.IOException;

/** Words for the network failures whose own messages do not say what to do. */
public final class NetErrors {
  private NetErrors() {}

  /**
   * What {@code e} means, for an error line: the JDK's and OkHttp's text, with what is probably
   * wrong when the failure shows a scheme or port mix-up.
   */
  public static String describe(IOException e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    if (plainHttpSpokenToTls(e)) {
      return "the server does not speak TLS on that port (" + m
          + "); is it an http:// URL, or the wrong port?";
    }
    if (m.startsWith("Unexpected status line")) {
      return "the server did not answer in HTTP (" + m.replaceAll("[^\\x20-\\x7e]", "?")
          + "); is it an https:// URL, or the wrong port?";
    }
    return m;
  }

  /** A TLS client that met a server answering in plain text (an http:// port, say). */
  public static boolean plainHttpSpokenToTls(IOException e) {
    return e instanceof javax.net.ssl.SSLException
        && e.getMessage() != null
        && e.getMessage().contains("Unsupported or unrecognized SSL message");
  }
}
