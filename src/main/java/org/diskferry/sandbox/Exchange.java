package org.diskferry.sandbox;

import java.io.BufferedOutputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.ZoneOffset;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/** One HTTP request on a connection and its response. Not thread-safe (one connection thread). */
final class Exchange {
  private static final int MAX_LINE = 8192;
  private static final int MAX_HEADERS = 100;
  /** Unread request bodies up to this size are drained to keep the connection; larger ones close it. */
  private static final long DRAIN_LIMIT = 256 * 1024;

  /** The raw connection: a small read buffer for the head, then direct socket reads. */
  static final class Conn {
    final Socket socket;
    private final InputStream in;
    private final OutputStream out;
    private final byte[] buf = new byte[16384];
    private int pos;
    private int lim;
    /** Set by the data plane once a ticket has been used on this connection. */
    Object ticket;

    Conn(Socket socket) throws IOException {
      this.socket = socket;
      this.in = socket.getInputStream();
      this.out = new BufferedOutputStream(socket.getOutputStream(), 65536);
    }

    private int fill() throws IOException {
      pos = 0;
      lim = 0;
      int n = in.read(buf, 0, buf.length);
      if (n > 0) {
        lim = n;
      }
      return n;
    }

    /** A line without its CR LF; null on EOF before the first byte. */
    String readLine(int max, int tooLongStatus) throws IOException {
      StringBuilder sb = null;
      while (true) {
        if (pos >= lim && fill() < 0) {
          if (sb == null) {
            return null;
          }
          throw new EOFException("connection closed in the middle of a line");
        }
        if (sb == null) {
          sb = new StringBuilder(64);
        }
        while (pos < lim) {
          byte b = buf[pos++];
          if (b == '\n') {
            int len = sb.length();
            if (len > 0 && sb.charAt(len - 1) == '\r') {
              sb.setLength(len - 1);
            }
            return sb.toString();
          }
          sb.append((char) (b & 0xff));
          if (sb.length() > max) {
            throw new BadRequestException(tooLongStatus, "Request line or header too long");
          }
        }
      }
    }

    int read(byte[] b, int off, int len) throws IOException {
      if (pos < lim) {
        int n = Math.min(len, lim - pos);
        System.arraycopy(buf, pos, b, off, n);
        pos += n;
        return n;
      }
      return in.read(b, off, len);
    }

    void writeRaw(String s) throws IOException {
      out.write(s.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
    }

    void setTimeout(int millis) throws IOException {
      socket.setSoTimeout(millis);
    }

    /** Resets the connection (RST instead of FIN). */
    void reset() {
      try {
        socket.setSoLinger(true, 0);
      } catch (IOException e) {
        // ignore
      }
      HttpServer.closeQuietly(socket);
    }
  }

  /** A malformed request: answered with this status and the connection closed. */
  static final class BadRequestException extends IOException {
    private static final long serialVersionUID = 1L;
    final int status;

    BadRequestException(int status, String message) {
      super(message);
      this.status = status;
    }
  }

  /** The connection was reset or must be dropped without an answer. */
  static final class AbortException extends IOException {
    private static final long serialVersionUID = 1L;

    AbortException(String message) {
      super(message);
    }
  }

  private static final DateTimeFormatter DATE = DateTimeFormatter.RFC_1123_DATE_TIME;

  final Conn conn;
  private final String listener;
  private final String method;
  private final String target;
  private final String path;
  private final Map<String, String> query;
  private final Map<String, String> headers;
  private final boolean http10;
  private final long contentLength;
  private final boolean chunked;
  private final boolean expectContinue;

  private long remaining;
  private boolean chunkedDone;
  private long chunkLeft;
  private boolean continueSent;
  private boolean responded;
  private boolean closeAfter;
  private long resetAfter = -1;
  private long bodyRead;
  private long responseLeft;
  private long responseWritten;
  private int status;

  private Exchange(
      Conn conn, String listener, String method, String target, Map<String, String> headers, boolean http10)
      throws BadRequestException {
    this.conn = conn;
    this.listener = listener;
    this.method = method;
    this.target = target;
    this.headers = headers;
    this.http10 = http10;
    int q = target.indexOf('?');
    String rawPath = q < 0 ? target : target.substring(0, q);
    this.path = rawPath;
    this.query = parseQuery(q < 0 ? "" : target.substring(q + 1));
    String te = headers.get("transfer-encoding");
    this.chunked = te != null && te.toLowerCase(Locale.ROOT).contains("chunked");
    String cl = headers.get("content-length");
    if (cl != null && !chunked) {
      try {
        contentLength = Long.parseLong(cl.trim());
      } catch (NumberFormatException e) {
        throw new BadRequestException(400, "Invalid Content-Length '" + cl + "'");
      }
      if (contentLength < 0) {
        throw new BadRequestException(400, "Invalid Content-Length '" + cl + "'");
      }
    } else {
      contentLength = -1;
    }
    this.remaining = Math.max(0, contentLength);
    String expect = headers.get("expect");
    this.expectContinue = expect != null && expect.toLowerCase(Locale.ROOT).contains("100-continue");
  }

  /** Reads the next request head; null on a clean EOF. */
  static Exchange read(Conn conn, String listener) throws IOException {
    String line;
    do {
      line = conn.readLine(4096, 414);
      if (line == null) {
        return null;
      }
    } while (line.isEmpty());
    String[] parts = line.split(" ");
    if (parts.length != 3 || !parts[2].startsWith("HTTP/1.")) {
      throw new BadRequestException(400, "Invalid request line");
    }
    Map<String, String> headers = new LinkedHashMap<>();
    for (int i = 0; ; i++) {
      if (i > MAX_HEADERS) {
        throw new BadRequestException(431, "Too many headers");
      }
      String h = conn.readLine(MAX_LINE, 431);
      if (h == null) {
        throw new EOFException("connection closed in the request head");
      }
      if (h.isEmpty()) {
        break;
      }
      int c = h.indexOf(':');
      if (c <= 0) {
        throw new BadRequestException(400, "Invalid header line");
      }
      String name = h.substring(0, c).trim().toLowerCase(Locale.ROOT);
      String value = h.substring(c + 1).trim();
      headers.merge(name, value, (a, b) -> a + ", " + b);
    }
    return new Exchange(conn, listener, parts[0], parts[1], headers, parts[2].equals("HTTP/1.0"));
  }

  private static Map<String, String> parseQuery(String q) {
    if (q.isEmpty()) {
      return Collections.emptyMap();
    }
    Map<String, String> m = new LinkedHashMap<>();
    for (String kv : q.split("&")) {
      if (kv.isEmpty()) {
        continue;
      }
      int e = kv.indexOf('=');
      String k = e < 0 ? kv : kv.substring(0, e);
      String v = e < 0 ? "" : kv.substring(e + 1);
      try {
        m.putIfAbsent(
            URLDecoder.decode(k, StandardCharsets.UTF_8), URLDecoder.decode(v, StandardCharsets.UTF_8));
      } catch (IllegalArgumentException ex) {
        m.putIfAbsent(k, v);
      }
    }
    return m;
  }

  static Map<String, String> parseForm(String body) {
    return parseQuery(body);
  }

  // ---- request ----

  String listener() {
    return listener;
  }

  String method() {
    return method;
  }

  String target() {
    return target;
  }

  /** The raw (not decoded) path, without the query. */
  String path() {
    return path;
  }

  Map<String, String> query() {
    return query;
  }

  String query(String name) {
    return query.get(name);
  }

  Map<String, String> headers() {
    return headers;
  }

  String header(String lowerCaseName) {
    return headers.get(lowerCaseName);
  }

  /** -1 when the request has no Content-Length. */
  long contentLength() {
    return contentLength;
  }

  boolean chunked() {
    return chunked;
  }

  /** Resets the connection after this many more request- or response-body bytes. */
  void resetAfter(long bytes) {
    this.resetAfter = bytes;
  }

  private void sendContinue() throws IOException {
    if (expectContinue && !continueSent && !responded) {
      continueSent = true;
      conn.writeRaw("HTTP/1.1 100 Continue\r\n\r\n");
    }
  }

  private void checkReset(long count) throws IOException {
    if (resetAfter >= 0 && count >= resetAfter) {
      conn.out.flush();
      conn.reset();
      throw new AbortException("connection reset by fault injection");
    }
  }

  /** Reads exactly {@code len} body bytes into the start of {@code b}. */
  void readBodyFully(byte[] b, int len) throws IOException {
    int filled = 0;
    while (filled < len) {
      int n = readBody(b, filled, len - filled);
      if (n < 0) {
        throw new EOFException("request body ended early");
      }
      filled += n;
    }
  }

  /**
   * Reads request-body bytes; -1 at the end of the body. A body cut short by the client is an
   * {@link EOFException}.
   */
  int readBody(byte[] b, int off, int len) throws IOException {
    if (chunked) {
      return readChunked(b, off, len);
    }
    if (remaining <= 0) {
      return -1;
    }
    sendContinue();
    int want = (int) Math.min(len, remaining);
    if (resetAfter >= 0) {
      checkReset(bodyRead);
      want = (int) Math.min(want, resetAfter - bodyRead);
    }
    int n = conn.read(b, off, want);
    if (n < 0) {
      throw new EOFException("request body ended early");
    }
    remaining -= n;
    bodyRead += n;
    return n;
  }

  private int readChunked(byte[] b, int off, int len) throws IOException {
    if (chunkedDone) {
      return -1;
    }
    sendContinue();
    if (chunkLeft == 0) {
      String line = conn.readLine(MAX_LINE, 400);
      if (line == null) {
        throw new EOFException("request body ended early");
      }
      if (line.isEmpty()) { // CRLF after the previous chunk
        line = conn.readLine(MAX_LINE, 400);
        if (line == null) {
          throw new EOFException("request body ended early");
        }
      }
      int semi = line.indexOf(';');
      try {
        chunkLeft = Long.parseLong((semi < 0 ? line : line.substring(0, semi)).trim(), 16);
      } catch (NumberFormatException e) {
        throw new BadRequestException(400, "Invalid chunk size");
      }
      if (chunkLeft == 0) {
        String t;
        do {
          t = conn.readLine(MAX_LINE, 400);
        } while (t != null && !t.isEmpty());
        chunkedDone = true;
        return -1;
      }
    }
    int n = conn.read(b, off, (int) Math.min(len, chunkLeft));
    if (n < 0) {
      throw new EOFException("request body ended early");
    }
    chunkLeft -= n;
    bodyRead += n;
    return n;
  }

  /** Reads the whole (small) body; null when it exceeds max bytes. */
  byte[] readSmallBody(int max) throws IOException {
    java.io.ByteArrayOutputStream bos = new java.io.ByteArrayOutputStream();
    byte[] b = new byte[8192];
    int n;
    while ((n = readBody(b, 0, b.length)) >= 0) {
      bos.write(b, 0, n);
      if (bos.size() > max) {
        closeAfter = true;
        return null;
      }
    }
    return bos.toByteArray();
  }

  private boolean bodyPending() {
    return chunked ? !chunkedDone : remaining > 0;
  }

  // ---- response ----

  boolean responded() {
    return responded;
  }

  int status() {
    return status;
  }

  /** Sends what the response has buffered so far. */
  void flush() throws IOException {
    conn.out.flush();
  }

  /** Closes the connection after the response. */
  void closeAfter() {
    closeAfter = true;
  }

  boolean willClose() {
    return closeAfter;
  }

  void sendText(int status, String message) throws IOException {
    Map<String, String> h = new LinkedHashMap<>();
    h.put("content-type", "text/plain; charset=UTF-8");
    send(status, h, (message + "\n").getBytes(StandardCharsets.UTF_8));
  }

  void send(int status, Map<String, String> headers, byte[] body) throws IOException {
    OutputStream out = sendHead(status, headers, body.length);
    out.write(body);
  }

  /**
   * Writes the status line and headers with this content length and returns the stream for
   * exactly that many body bytes.
   */
  OutputStream sendHead(int status, Map<String, String> headers, long length) throws IOException {
    if (responded) {
      throw new IllegalStateException("already responded");
    }
    responded = true;
    this.status = status;
    if (bodyPending()) {
      if ((expectContinue && !continueSent) || chunked || remaining > DRAIN_LIMIT) {
        closeAfter = true;
      }
    }
    String conn = headers.get("connection");
    String reqConn = this.headers.get("connection");
    if (reqConn != null && reqConn.toLowerCase(Locale.ROOT).contains("close")) {
      closeAfter = true;
    }
    if (http10 && (reqConn == null || !reqConn.toLowerCase(Locale.ROOT).contains("keep-alive"))) {
      closeAfter = true;
    }
    if (conn != null && conn.equalsIgnoreCase("close")) {
      closeAfter = true;
    }
    StringBuilder sb = new StringBuilder(256);
    sb.append("HTTP/1.1 ").append(status).append(' ').append(reason(status)).append("\r\n");
    boolean hasDate = false;
    for (Map.Entry<String, String> e : headers.entrySet()) {
      if (e.getKey().equals("connection")) {
        continue;
      }
      hasDate |= e.getKey().equals("date");
      sb.append(e.getKey()).append(": ").append(e.getValue()).append("\r\n");
    }
    if (!hasDate) {
      sb.append("date: ").append(DATE.format(ZonedDateTime.now(ZoneOffset.UTC))).append("\r\n");
    }
    sb.append("content-length: ").append(length).append("\r\n");
    if (closeAfter) {
      sb.append("connection: close\r\n");
    }
    sb.append("\r\n");
    if (resetAfter >= 0 && (contentLength > 0 || chunked)) {
      // a request body shorter than the limit: reset before the answer reaches the client
      checkReset(resetAfter);
    }
    this.conn.out.write(sb.toString().getBytes(StandardCharsets.ISO_8859_1));
    responseLeft = method.equals("HEAD") ? 0 : length;
    return new BodyOut();
  }

  private final class BodyOut extends OutputStream {
    @Override
    public void write(int b) throws IOException {
      write(new byte[] {(byte) b}, 0, 1);
    }

    @Override
    public void write(byte[] b, int off, int len) throws IOException {
      if (method.equals("HEAD")) {
        return;
      }
      if (len > responseLeft) {
        throw new IllegalStateException("response body longer than its content-length");
      }
      if (resetAfter >= 0) {
        long allowed = resetAfter - responseWritten;
        if (allowed < len) {
          conn.out.write(b, off, (int) Math.max(0, allowed));
          responseWritten += Math.max(0, allowed);
          checkReset(responseWritten);
        }
      }
      conn.out.write(b, off, len);
      responseLeft -= len;
      responseWritten += len;
    }

    @Override
    public void flush() throws IOException {
      conn.out.flush();
    }
  }

  /** Completes the exchange; true when the connection can serve another request. */
  boolean finish() throws IOException {
    conn.out.flush();
    if (closeAfter || responseLeft > 0) {
      return false;
    }
    if (bodyPending()) {
      byte[] b = new byte[8192];
      while (readBody(b, 0, b.length) >= 0) {
        // drain
      }
    }
    return true;
  }

  static String reason(int status) {
    switch (status) {
      case 100: return "Continue";
      case 200: return "OK";
      case 201: return "Created";
      case 202: return "Accepted";
      case 204: return "No Content";
      case 206: return "Partial Content";
      case 400: return "Bad Request";
      case 401: return "Unauthorized";
      case 403: return "Forbidden";
      case 404: return "Not Found";
      case 405: return "Method Not Allowed";
      case 409: return "Conflict";
      case 411: return "Length Required";
      case 413: return "Payload Too Large";
      case 414: return "URI Too Long";
      case 415: return "Unsupported Media Type";
      case 416: return "Requested Range Not Satisfiable";
      case 431: return "Request Header Fields Too Large";
      case 500: return "Internal Server Error";
      case 502: return "Bad Gateway";
      case 503: return "Service Unavailable";
      case 504: return "Gateway Timeout";
      default: return "Status " + status;
    }
  }
}
