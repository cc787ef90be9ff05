package org.diskferry.sandbox;

import com.fasterxml.jackson.databind.node.ObjectNode;
import org.diskferry.http.Json;

/** An engine API error answer: a status and a fault body (or no body). */
final class ApiException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  final int status;
  final transient ObjectNode body;

  ApiException(int status, ObjectNode body) {
    super(body == null ? "HTTP " + status : body.toString(), null, false, false);
    this.status = status;
    this.body = body;
  }

  static ApiException fault(int status, String reason, String detail) {
    ObjectNode f = Json.mapper().createObjectNode();
    f.put("reason", reason);
    if (detail != null) {
      f.put("detail", detail);
    }
    return new ApiException(status, f);
  }

  /** A backend failure: reason "Operation Failed", detail in brackets. */
  static ApiException failed(int status, String message) {
    return fault(status, "Operation Failed", "[" + message + "]");
  }

  static ApiException notFound() {
    return new ApiException(404, null);
  }
}
