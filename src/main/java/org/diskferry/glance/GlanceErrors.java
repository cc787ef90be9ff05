package org.diskferry.glance;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import okhttp3.Response;
import org.diskferry.error.DiskferryException;
import org.diskferry.error.DiskferryException.Kind;
import org.diskferry.http.Json;

/** Turns Glance error answers into one-line {@link DiskferryException}s with SPEC exit codes. */
final class GlanceErrors {

  private GlanceErrors() {}

  /** The exit kind for an HTTP status from Glance. */
  static Kind kind(int code) {
    return switch (code) {
      case 400 -> Kind.BAD_INPUT;
      case 401, 403 -> Kind.AUTH;
      case 404, 410 -> Kind.NOT_FOUND;
      case 409 -> Kind.CONFLICT;
      default -> Kind.FAILED;
    };
  }

  /** An exception for a failed call; reads (and so consumes) the response body. */
  static DiskferryException of(Response resp, String what) {
    String body;
    try {
      body = resp.body().string();
    } catch (IOException e) {
      body = "";
    }
    okhttp3.HttpUrl url = resp.request().url();
    return of(resp.code(), body, resp.header("X-Openstack-Request-Id"),
        what + " at " + url.scheme() + "://" + url.host() + ":" + url.port());
  }

  static DiskferryException of(int code, String body, String requestId, String what) {
    String msg = message(body);
    String hint =
        switch (code) {
          case 401 -> "; the token was refused: check the cloud's credentials";
          case 413 -> "; the image is larger than the cloud's size cap or your quota allows";
          default -> "";
        };
    return new DiskferryException(
        kind(code),
        "glance: " + what + ": " + code + (msg.isEmpty() ? "" : " " + msg) + hint
            + (requestId == null ? "" : " (request " + requestId + ")"));
  }

  /** The message of a JSON error ({@code Accept: application/json}), or the text of an HTML one. */
  static String message(String body) {
    if (body == null || body.isBlank()) {
      return "";
    }
    String m = body;
    try {
      JsonNode n = Json.mapper().readTree(body);
      if (n.hasNonNull("message")) {
        m = n.get("message").asText();
      } else if (n.path("error").hasNonNull("message")) {
        m = n.path("error").path("message").asText();
      }
    } catch (IOException | RuntimeException e) {
      m = body.replaceAll("(?s)<head>.*?</head>", "").replaceAll("<h1>.*?</h1>", "");
    }
    m = m.replaceAll("<br\\s*/?>", " ").replaceAll("<[^>]+>", " ").replaceAll("\\s+", " ").trim();
    return m.length() > 300 ? m.substring(0, 300) + "..." : m;
  }
}
