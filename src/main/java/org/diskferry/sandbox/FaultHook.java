package org.diskferry.sandbox;

import java.time.Duration;
import java.util.Map;

/**
 * Fault injection: consulted once per request, before it is routed, on both listeners. Return
 * null to handle the request normally. Implementations must be thread-safe.
 *
 * <p>{@link FaultSpec} builds one from the text of {@code diskferry sandbox --faults}.
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
  record Action(
      Kind kind,
      int status,
      String message,
      long afterBytes,
      Duration delay,
      Map<String, String> headers) {
    public enum Kind {
      /** Answer status with a one-line message (and headers), then close the connection. */
      RESPOND,
      /** Reset the connection (TCP RST) after this many request-body bytes were read or response-body bytes written (0 = at once). */
      RESET,
      /** Sleep, then handle the request normally. */
      STALL
    }

    public Action {
      headers = headers == null ? Map.of() : Map.copyOf(headers);
    }

    public Action(Kind kind, int status, String message, long afterBytes, Duration delay) {
      this(kind, status, message, afterBytes, delay, Map.of());
    }

    public static Action respond(int status, String message) {
      return new Action(Kind.RESPOND, status, message, 0, Duration.ZERO);
    }

    /** Answers status with these extra headers (lower-case names, e.g. {@code retry-after}). */
    public static Action respond(int status, String message, Map<String, String> headers) {
      return new Action(Kind.RESPOND, status, message, 0, Duration.ZERO, headers);
    }

    public static Action resetAfter(long bytes) {
      return new Action(Kind.RESET, 0, null, bytes, Duration.ZERO);
    }

    public static Action stall(Duration delay) {
      return new Action(Kind.STALL, 0, null, 0, delay);
    }
  }

  Action onRequest(Request request);

  /**
   * Called once the request was handled (answered, reset or abandoned) and its response flushed,
   * with the status sent (0 when none was). The same {@link Request} as {@link #onRequest}.
   */
  default void afterRequest(Request request, int status) {}

  /**
   * How long an idle keep-alive data-plane connection (one that used a ticket, or any on the
   * imageio daemon listener) waits for its next request before the server closes it; 0 keeps the
   * connection's own timeout (the transfer's inactivity timeout).
   */
  default int idleCloseMillis() {
    return 0;
  }

  /** The server closed an idle connection because of {@link #idleCloseMillis()}. */
  default void idleClosed(String listener) {}
}
