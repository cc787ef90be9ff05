package org.diskferry.sandbox;

import java.time.Duration;
import java.util.Map;

/**
 * Fault injection: consulted once per request, before it is routed, on both listeners. Return
 * null to handle the request normally. Implementations must be thread-safe.
 */
@FunctionalInterface
public interface FaultHook {

  /** What a request looks like to a fault hook. Header names are lower case. */
  record Request(String listener, String method, String path, Map<String, String> headers) {
    /** True for imageio data-plane requests ({@code /images/...}). */
    public boolean dataPlane() {
      return path.startsWith("/images/");
    }
  }

  /** What to do instead of (or before) normal handling. */
  record Action(Kind kind, int status, String message, long afterBytes, Duration delay) {
    public enum Kind {
      /** Answer status with a one-line message, then close the connection. */
      RESPOND,
      /** Reset the connection (TCP RST) after this many request-body bytes were read or response-body bytes written (0 = at once). */
      RESET,
      /** Sleep, then handle the request normally. */
      STALL
    }

    public static Action respond(int status, String message) {
      return new Action(Kind.RESPOND, status, message, 0, Duration.ZERO);
    }

    public static Action resetAfter(long bytes) {
      return new Action(Kind.RESET, 0, null, bytes, Duration.ZERO);
    }

    public static Action stall(Duration delay) {
      return new Action(Kind.STALL, 0, null, 0, delay);
    }
  }

  Action onRequest(Request request);
}
