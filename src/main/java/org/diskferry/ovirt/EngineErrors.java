package org.diskferry.ovirt;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.InterruptedIOException;
import java.net.ConnectException;
import java.net.NoRouteToHostException;
import java.net.UnknownHostException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLPeerUnverifiedException;
import okhttp3.HttpUrl;
import org.diskferry.error.DiskferryException;
import org.diskferry.http.Json;

/**
 * Turns engine HTTP answers and connection failures into one-line {@link DiskferryException}s
 * with the right kind (and so the right exit code).
 */
final class EngineErrors {

  static final String CA_PATH =
      "/ovirt-engine/services/pki-resource?resource=ca-certificate&format=X509-PEM-CA";
  private static final int MAX_TEXT = 400;

  private EngineErrors() {}

  /**
   * Maps an error status.
   *
   * @param action what was being done, as a verb phrase: "create disk 'x'"
   * @param notFound the message for a 404, e.g. "disk X not found"
   */
  static DiskferryException forStatus(int status, String body, String action, String notFound) {
    String detail = faultText(body);
    String suffix = detail == null ? "" : ": " + detail;
    switch (status) {
      case 400:
        return DiskferryException.failed(
            "cannot " + action + suffix + (detail == null ? " (HTTP 400)" : ""));
      case 401:
        return DiskferryException.auth(
            "cannot " + action + ": the engine rejected the login session (HTTP 401) even after"
                + " logging in again");
      case 403:
        return DiskferryException.auth(
            "not authorized to " + action + (detail == null ? " (HTTP 403)" : suffix));
      case 404:
        return DiskferryException.notFound(
            notFound != null ? notFound : "cannot " + action + ": not found" + suffix);
      case 409:
        return DiskferryException.conflict(
            "cannot " + action + (detail == null ? ": conflict (HTTP 409)" : suffix));
      default:
        if (status >= 500) {
          return DiskferryException.failed(
              "engine error: cannot " + action + (detail == null ? " (HTTP " + status + ")" : suffix));
        }
        return DiskferryException.failed(
            "cannot " + action + ": unexpected HTTP " + status + " from the engine" + suffix);
    }
  }

  /**
   * The human part of a fault body {@code {"reason","detail"}}: the detail without the brackets
   * of a Java list, prefixed with the reason unless that is the generic "Operation Failed".
   * Null when the body is empty or not a JSON fault (e.g. an HTML error page).
   */
  static String faultText(String body) {
    if (body == null || body.isBlank()) {
      return null;
    }
    JsonNode node;
    try {
      node = Json.mapper().readTree(body);
    } catch (IOException e) {
      return null;
    }
    if (node == null || !node.isObject()) {
      return null;
    }
    String reason = text(node.get("reason"));
    String detail = text(node.get("detail"));
    if (detail != null && detail.startsWith("[") && detail.endsWith("]")) {
      detail = detail.substring(1, detail.length() - 1).trim();
    }
    String result;
    if (detail == null || detail.isEmpty()) {
      result = reason;
    } else if (reason == null || reason.isEmpty() || reason.equalsIgnoreCase("Operation Failed")) {
      result = detail;
    } else {
      result = stripDot(reason) + ": " + detail;
    }
    return result == null || result.isBlank() ? null : oneLine(result);
  }

  /**
   * Maps a failure to talk to the engine at all.
   *
   * @param url the URL that was called (only its host and port are used)
   * @param base the normalised engine URL, for messages
   */
  static DiskferryException forIo(IOException e, HttpUrl url, String base) {
    if (isTlsTrust(e)) {
      return untrusted(hostPort(url), base, e);
    }
    String reason = oneLine(org.diskferry.http.NetErrors.describe(e));
    String where = base;
    if (e instanceof ConnectException
        || e instanceof UnknownHostException
        || e instanceof NoRouteToHostException
        || e instanceof InterruptedIOException) {
      return new DiskferryException(
          DiskferryException.Kind.FAILED, "cannot reach the engine at " + where + ": " + reason, e);
    }
    return new DiskferryException(
        DiskferryException.Kind.FAILED,
        "lost the connection to the engine at " + where + ": " + reason,
        e);
  }

  /**
   * True when a TLS failure is about trust: the server's certificate chain did not validate
   * against the trusted CAs, or its name did not match. A handshake that broke off because the
   * connection dropped (a restarting server: "Remote host terminated the handshake",
   * "cipherSuite == SSL_NULL_WITH_NULL_NULL", an EOF) is not: that is a transient failure to retry.
   */
  static boolean isTlsTrust(Throwable e) {
    if (!(e instanceof SSLHandshakeException || e instanceof SSLPeerUnverifiedException)) {
      return false;
    }
    for (Throwable c = e; c != null; c = c.getCause() == c ? null : c.getCause()) {
      if (c instanceof java.security.cert.CertificateException
          || c instanceof java.security.cert.CertPathValidatorException
          || c instanceof java.security.cert.CertPathBuilderException) {
        return true;
      }
    }
    // OkHttp's own checks: host name verification and certificate pinning.
    String m = e.getMessage() == null ? "" : e.getMessage();
    return e instanceof SSLPeerUnverifiedException
        && (m.startsWith("Hostname ") || m.startsWith("Certificate pinning"));
  }

  /** AUTH: a server certificate we do not trust; says where to get the engine CA. */
  static DiskferryException untrusted(String hostPort, String engineBase, Throwable cause) {
    String where =
        engineBase == null
            ? "the engine's " + CA_PATH.substring(1)
            : engineBase + CA_PATH;
    return new DiskferryException(
        DiskferryException.Kind.AUTH,
        "the TLS certificate of " + hostPort + " is not trusted; pass --cafile with the engine CA"
            + " (published at " + where + ") or use --insecure",
        cause);
  }

  static String hostPort(HttpUrl url) {
    String host = url.host().contains(":") ? "[" + url.host() + "]" : url.host();
    return host + ":" + url.port();
  }

  /** scheme://host:port of a URL, never its path or query. */
  static String origin(HttpUrl url) {
    return url.scheme() + "://" + hostPort(url);
  }

  static String oneLine(String s) {
    String t = s.replaceAll("\\s+", " ").trim();
    return t.length() > MAX_TEXT ? t.substring(0, MAX_TEXT) + "..." : t;
  }

  private static String stripDot(String s) {
    return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
  }

  private static String text(JsonNode n) {
    return n == null || n.isNull() ? null : n.asText().trim();
  }
}
