package org.diskferry.sandbox;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.diskferry.http.Json;
import org.diskferry.transfer.UncachedFile;

/** The ovirt-imageio data plane ({@code /images/<ticket>}, {@code /info/}), version 2.5.3. */
final class ImageioService {
  static final String VERSION = "2.5.3";
  static final String SERVER = "imageio/" + VERSION;
  private static final int BUFFER_SIZE = 1 << 20;
  private static final byte[] ZEROS = new byte[BUFFER_SIZE];
  private static final ThreadLocal<byte[]> BUFFER = ThreadLocal.withInitial(() -> new byte[BUFFER_SIZE]);
  private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d+)-(\\d+)/(\\d+|\\*)");
  private static final Pattern RANGE = Pattern.compile("(\\d+)-(\\d*)");
  private static final int MAX_READERS = 8;
  private static final int MAX_WRITERS = 8;

  private final Sandbox sandbox;

  ImageioService(Sandbox sandbox) {
    this.sandbox = sandbox;
  }

  /** A data-plane error: status, one-line message, optional extra headers. */
  private static final class Failure extends Exception {
    private static final long serialVersionUID = 1L;
    final int status;
    final boolean close;
    final String contentRange;

    Failure(int status, String message, boolean close, String contentRange) {
      super(message, null, false, false);
      this.status = status;
      this.close = close;
      this.contentRange = contentRange;
    }
  }

  private static Failure bad(String message) {
    return new Failure(400, message, false, null);
  }

  private static Failure outOfRange(long size, boolean close) {
    return new Failure(416, "Requested range out of allowed range", close, "bytes */" + size);
  }

  void handle(Exchange ex) throws IOException {
    try {
      route(ex);
    } catch (Failure f) {
      if (f.close) {
        ex.closeAfter();
      }
      Map<String, String> h = headers();
      h.put("content-type", "text/plain; charset=UTF-8");
      if (f.contentRange != null) {
        h.put("content-range", f.contentRange);
      }
      ex.send(f.status, h, (f.getMessage() + "\n").getBytes(StandardCharsets.UTF_8));
    }
  }

  private static Map<String, String> headers() {
    Map<String, String> h = new LinkedHashMap<>();
    h.put("server", SERVER);
    return h;
  }

  private void route(Exchange ex) throws IOException, Failure {
    String path = ex.path();
    String method = ex.method();
    if (path.equals("/info/")) {
      if (!method.equals("GET")) {
        throw notDefined(method, path);
      }
      sendJson(ex, 200, headers(), Json.mapper().createObjectNode().put("version", VERSION));
      return;
    }
    if (!path.startsWith("/images/") || path.length() == "/images/".length()) {
      throw new Failure(404, "No handler for '" + path + "'", false, null);
    }
    String rest = path.substring("/images/".length());
    int slash = rest.indexOf('/');
    String id = slash < 0 ? rest : rest.substring(0, slash);
    String sub = slash < 0 ? "" : rest.substring(slash + 1);
    switch (sub) {
      case "":
        switch (method) {
          case "OPTIONS":
            options(ex, id);
            return;
          case "GET":
            get(ex, id);
            return;
          case "PUT":
            put(ex, id);
            return;
          case "PATCH":
            patch(ex, id);
            return;
          default:
            throw notDefined(method, path);
        }
      case "extents":
        if (!method.equals("GET")) {
          throw notDefined(method, path);
        }
        extents(ex, id);
        return;
      case "checksum":
        if (!method.equals("GET")) {
          throw notDefined(method, path);
        }
        checksum(ex, id);
        return;
      case "checksum/algorithms":
        if (!method.equals("GET")) {
          throw notDefined(method, path);
        }
        authorize(ex, id, false);
        ObjectNode o = Json.mapper().createObjectNode();
        ArrayNode a = o.putArray("algorithms");
        Checksums.ALGORITHMS.keySet().stream().sorted().forEach(a::add);
        sendJson(ex, 200, headers(), o);
        return;
      default:
        throw new Failure(404, "No handler for '" + path + "'", false, null);
    }
  }

  private static Failure notDefined(String method, String path) {
    return new Failure(405, "Method '" + method + "' not defined for '" + path + "'", false, null);
  }

  /** Checks the ticket for this operation; on success the connection adopts its inactivity timeout. */
  private Ticket authorize(Exchange ex, String id, boolean write) throws IOException, Failure {
    Ticket t = sandbox.tickets.get(id);
    String prefix = "You are not allowed to access this resource: ";
    if (t == null) {
      throw new Failure(403, prefix + "No such ticket " + id, true, null);
    }
    if (t.cancelled) {
      throw new Failure(403, prefix + "Transfer=" + t.transferLabel() + " was canceled", true, null);
    }
    if (t.expired(System.nanoTime())) {
      throw new Failure(403, prefix + "Transfer=" + t.transferLabel() + " expired", true, null);
    }
    if (write && !t.write) {
      throw new Failure(403, prefix + "Transfer=" + t.transferLabel() + " forbids write", true, null);
    }
    if (ex.conn.ticket != t) {
      ex.conn.ticket = t;
      ex.conn.setTimeout(t.inactivityTimeoutSeconds * 1000);
    }
    return t;
  }

  private void options(Exchange ex, String id) throws IOException, Failure {
    ObjectNode o = Json.mapper().createObjectNode();
    ArrayNode f = o.putArray("features");
    Map<String, String> h = headers();
    if (id.equals("*")) {
      f.add("checksum").add("extents").add("flush").add("zero");
      h.put("allow", "OPTIONS,GET,PUT,PATCH");
      sendJson(ex, 200, h, o);
      return;
    }
    Ticket t = authorize(ex, id, false);
    t.begin();
    try {
      f.add("checksum").add("extents");
      if (t.write) {
        f.add("flush").add("zero");
        h.put("allow", "OPTIONS,GET,PUT,PATCH");
      } else {
        h.put("allow", "OPTIONS,GET");
      }
      o.put("max_readers", MAX_READERS);
      o.put("max_writers", t.fileBackend ? 1 : MAX_WRITERS);
      sendJson(ex, 200, h, o);
    } finally {
      t.end();
    }
  }

  private void put(Exchange ex, String id) throws IOException, Failure {
    Ticket t = authorize(ex, id, true);
    long length = ex.contentLength();
    if (ex.chunked() || length < 0) {
      throw new Failure(400, "Content-Length header is required", true, null);
    }
    boolean flush = flushParam(ex.query("flush"), true);
    long offset = 0;
    String cr = ex.header("content-range");
    if (cr != null) {
      Matcher m = CONTENT_RANGE.matcher(cr.trim());
      if (!m.matches()) {
        throw new Failure(400, "Invalid Content-Range '" + cr + "'", true, null);
      }
      try {
        offset = Long.parseLong(m.group(1));
      } catch (NumberFormatException e) {
        throw new Failure(400, "Invalid Content-Range '" + cr + "'", true, null);
      }
    }
    if (offset + length > t.size || offset + length < 0) {
      throw outOfRange(t.size, true);
    }
    t.begin();
    try {
      UncachedFile file = t.disk.file();
      byte[] buf = BUFFER.get();
      long pos = offset;
      long left = length;
      while (left > 0) {
        int want = (int) Math.min(buf.length, left);
        ex.readBodyFully(buf, want);
        int filled = want;
        file.write(buf, 0, filled, pos);
        pos += filled;
        left -= filled;
        if (t.cancelled) {
          throw new Exchange.AbortException("ticket removed during the request");
        }
      }
      if (length > 0) {
        t.disk.extents.set(offset, offset + length, ExtentMap.DATA);
        t.disk.markDirty(offset, offset + length);
        t.disk.metaDirty = true;
        t.completed.set(offset, offset + length, ExtentMap.DATA);
      }
      if (flush) {
        file.force(false);
      }
    } finally {
      t.end();
    }
    ex.send(200, headers(), new byte[0]);
  }

  private static boolean flushParam(String v, boolean dflt) throws Failure {
    if (v == null) {
      return dflt;
    }
    if (v.equals("y")) {
      return true;
    }
    if (v.equals("n")) {
      return false;
    }
    throw bad("Unsupported value '" + v + "' for 'flush', expecting one of ['n', 'y']");
  }

  private void get(Exchange ex, String id) throws IOException, Failure {
    Ticket t = authorize(ex, id, false);
    long size = t.size;
    String range = ex.header("range");
    long start;
    long end;
    int status;
    if (range == null) {
      start = 0;
      end = size - 1;
      status = 200;
    } else {
      String r = range.trim();
      if (!r.startsWith("bytes=")) {
        throw new Failure(416, "invalid range or multiple ranges", false, null);
      }
      String spec = r.substring("bytes=".length()).trim();
      if (spec.contains(",")) {
        throw new Failure(416, "invalid range or multiple ranges", false, null);
      }
      if (spec.startsWith("-")) {
        throw new Failure(416, "suffix-byte-range-spec not supported yet", false, null);
      }
      Matcher m = RANGE.matcher(spec);
      if (!m.matches()) {
        throw new Failure(416, "invalid range or multiple ranges", false, null);
      }
      try {
        start = Long.parseLong(m.group(1));
        end = m.group(2).isEmpty() ? size - 1 : Long.parseLong(m.group(2));
      } catch (NumberFormatException e) {
        throw new Failure(416, "invalid range or multiple ranges", false, null);
      }
      if (end < start) {
        throw new Failure(416, "invalid range or multiple ranges", false, null);
      }
      if (start >= size || end >= size) {
        throw outOfRange(size, false);
      }
      status = 206;
    }
    long length = end - start + 1;
    Map<String, String> h = headers();
    h.put("content-type", "application/octet-stream");
    h.put("content-disposition", "attachment");
    if (status == 206) {
      h.put("content-range", "bytes " + start + "-" + end + "/" + size);
    }
    t.begin();
    try {
      FileChannel ch = t.disk.channel();
      OutputStream out = ex.sendHead(status, h, length);
      byte[] buf = BUFFER.get();
      ByteBuffer bb = ByteBuffer.wrap(buf);
      long pos = start;
      long left = length;
      while (left > 0) {
        int want = (int) Math.min(buf.length, left);
        bb.clear().limit(want);
        while (bb.hasRemaining()) {
          int n = ch.read(bb, pos + bb.position());
          if (n < 0) { // past the end of the file: reads as zeroes
            Arrays.fill(buf, bb.position(), want, (byte) 0);
            bb.position(want);
          }
        }
        out.write(buf, 0, want);
        pos += want;
        left -= want;
        if (t.cancelled) {
          throw new Exchange.AbortException("ticket removed during the request");
        }
      }
      if (length > 0) {
        t.completed.set(start, start + length, ExtentMap.DATA);
      }
    } finally {
      t.end();
    }
  }

  private void patch(Exchange ex, String id) throws IOException, Failure {
    Ticket t = authorize(ex, id, true);
    byte[] body = ex.readSmallBody(64 * 1024);
    if (body == null) {
      throw new Failure(413, "Request body too large", true, null);
    }
    JsonNode msg;
    try {
      msg = Json.mapper().readTree(body);
    } catch (JsonProcessingException e) {
      throw bad("Invalid JSON message " + new String(body, StandardCharsets.UTF_8).strip()
          + ": " + e.getOriginalMessage());
    }
    if (msg == null || !msg.isObject()) {
      throw bad("Invalid JSON message " + new String(body, StandardCharsets.UTF_8).strip());
    }
    JsonNode op = msg.get("op");
    if (op == null || op.isNull()) {
      throw bad("Missing required value for 'op'");
    }
    String opName = op.asText();
    if (opName.equals("flush")) {
      t.begin();
      try {
        t.disk.channel().force(false);
      } finally {
        t.end();
      }
      ex.send(200, headers(), new byte[0]);
      return;
    }
    if (!opName.equals("zero")) {
      throw bad("Unsupported value '" + opName + "' for 'op', expecting one of ['flush', 'zero']");
    }
    long size = intValue(msg, "size", -1);
    long offset = intValue(msg, "offset", 0);
    boolean flush = false;
    JsonNode f = msg.get("flush");
    if (f != null && !f.isNull()) {
      if (!f.isBoolean()) {
        throw bad("Invalid value for 'flush': " + f + ", expecting a boolean");
      }
      flush = f.asBoolean();
    }
    if (offset + size > t.size) {
      throw outOfRange(t.size, false);
    }
    t.begin();
    try {
      FileChannel ch = t.disk.channel();
      for (long[] seg : t.disk.extents.segments(offset, offset + size, ExtentMap.DATA)) {
        long pos = seg[0];
        while (pos < seg[1]) {
          ByteBuffer z = ByteBuffer.wrap(ZEROS, 0, (int) Math.min(ZEROS.length, seg[1] - pos));
          while (z.hasRemaining()) {
            pos += ch.write(z, pos);
          }
        }
      }
      if (size > 0) {
        t.disk.extents.set(offset, offset + size, ExtentMap.ZERO);
        t.disk.markDirty(offset, offset + size);
        t.disk.metaDirty = true;
        t.completed.set(offset, offset + size, ExtentMap.DATA);
      }
      if (flush) {
        ch.force(false);
      }
    } finally {
      t.end();
    }
    ex.send(200, headers(), new byte[0]);
  }

  private static long intValue(JsonNode msg, String name, long dflt) throws Failure {
    JsonNode v = msg.get(name);
    if (v == null || v.isNull()) {
      if (dflt < 0) {
        throw bad("Missing required value for '" + name + "'");
      }
      return dflt;
    }
    if (!v.isIntegralNumber() || v.asLong() < 0) {
      throw bad("Invalid value for '" + name + "': " + v + ", expecting an integer >= 0");
    }
    return v.asLong();
  }

  private void extents(Exchange ex, String id) throws IOException, Failure {
    Ticket t = authorize(ex, id, false);
    String context = ex.query("context");
    if (context != null && !context.equals("zero")) {
      if (!context.equals("dirty")) {
        throw bad("Unsupported value '" + context + "' for 'context', expecting one of ['dirty', 'zero']");
      }
      ExtentMap dirty = t.transfer.dirty;
      if (dirty == null) {
        throw new Failure(404, "Ticket does not support dirty extents", false, null);
      }
      t.begin();
      try {
        sendJson(ex, 200, headers(), dirtyExtents(t, dirty));
      } finally {
        t.end();
      }
      return;
    }
    t.begin();
    try {
      ArrayNode list = Json.mapper().createArrayNode();
      if (t.fileBackend) {
        addExtent(list, 0, t.size, false, false);
      } else {
        boolean holes = t.disk.format.equals("cow");
        long pos = 0;
        for (long[] s : t.disk.extents.segments()) {
          if (s[0] >= t.size) {
            break;
          }
          if (s[0] > pos) {
            addExtent(list, pos, s[0] - pos, true, holes);
          }
          long end = Math.min(s[1], t.size);
          addExtent(list, s[0], end - s[0], s[2] == ExtentMap.ZERO, false);
          pos = end;
        }
        if (pos < t.size) {
          addExtent(list, pos, t.size - pos, true, holes);
        }
      }
      sendJson(ex, 200, headers(), list);
    } finally {
      t.end();
    }
  }

  /**
   * Dirty extents, as qemu-nbd reports them with {@code --bitmap}: the whole image in ranges that
   * are dirty or not, each split where it reads as zeros or not.
   */
  private static ArrayNode dirtyExtents(Ticket t, ExtentMap dirty) {
    java.util.TreeSet<Long> cuts = new java.util.TreeSet<>();
    cuts.add(0L);
    cuts.add(t.size);
    for (long[] s : dirty.segments()) {
      cuts.add(Math.min(s[0], t.size));
      cuts.add(Math.min(s[1], t.size));
    }
    for (long[] s : t.disk.extents.segments()) {
      cuts.add(Math.min(s[0], t.size));
      cuts.add(Math.min(s[1], t.size));
    }
    ArrayNode list = Json.mapper().createArrayNode();
    Long prev = null;
    for (long cut : cuts) {
      if (prev != null && cut > prev) {
        boolean isDirty = !dirty.segments(prev, cut, ExtentMap.DATA).isEmpty();
        boolean zero = t.disk.extents.segments(prev, cut, ExtentMap.DATA).isEmpty();
        ObjectNode last = list.size() == 0 ? null : (ObjectNode) list.get(list.size() - 1);
        if (last != null && last.get("dirty").asBoolean() == isDirty
            && last.get("zero").asBoolean() == zero) {
          last.put("length", last.get("length").asLong() + cut - prev);
        } else {
          list.addObject().put("start", prev).put("length", cut - prev).put("dirty", isDirty)
              .put("zero", zero);
        }
      }
      prev = cut;
    }
    return list;
  }

  private static void addExtent(ArrayNode list, long start, long length, boolean zero, boolean hole) {
    if (length <= 0) {
      return;
    }
    if (list.size() > 0) {
      ObjectNode last = (ObjectNode) list.get(list.size() - 1);
      if (last.get("zero").asBoolean() == zero && last.get("hole").asBoolean() == hole
          && last.get("start").asLong() + last.get("length").asLong() == start) {
        last.put("length", last.get("length").asLong() + length);
        return;
      }
    }
    list.addObject().put("start", start).put("length", length).put("zero", zero).put("hole", hole);
  }

  private void checksum(Exchange ex, String id) throws IOException, Failure {
    Ticket t = authorize(ex, id, false);
    String algorithm = ex.query("algorithm") == null ? "blake2b" : ex.query("algorithm");
    if (!Checksums.ALGORITHMS.containsKey(algorithm)) {
      throw bad("Unsupported value '" + algorithm + "' for 'algorithm', expecting one of "
          + Checksums.ALGORITHMS.keySet().stream().sorted().map(a -> "'" + a + "'").toList());
    }
    long blockSize = 4L << 20;
    String bs = ex.query("block_size");
    if (bs != null) {
      try {
        blockSize = Long.parseLong(bs);
      } catch (NumberFormatException e) {
        throw bad("Invalid value for 'block_size': '" + bs + "'");
      }
      if (blockSize < 1 || blockSize > (16L << 20) || blockSize % 4096 != 0) {
        throw bad("Invalid value for 'block_size': " + bs
            + ", expecting a multiple of 4096 between 4096 and 16777216");
      }
    }
    t.begin();
    try {
      byte[] digest = Checksums.blkhash(t, algorithm, (int) blockSize, BUFFER.get());
      ObjectNode o = Json.mapper().createObjectNode();
      o.put("algorithm", algorithm);
      o.put("block_size", blockSize);
      o.put("checksum", HexFormat.of().formatHex(digest));
      sendJson(ex, 200, headers(), o);
    } finally {
      t.end();
    }
  }

  static void sendJson(Exchange ex, int status, Map<String, String> h, JsonNode body) throws IOException {
    h.put("content-type", "application/json");
    ex.send(status, h, Json.mapper().writeValueAsBytes(body));
  }

  static List<long[]> dataSegments(Ticket t, long start, long end) {
    return t.disk.extents.segments(start, end, ExtentMap.DATA);
  }
}
