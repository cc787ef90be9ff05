package org.diskferry.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.atomic.AtomicInteger;
import javax.net.ssl.SSLException;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import org.diskferry.sandbox.TestClient.Resp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class DataPlaneTest {
  static final MediaType OCTET = MediaType.get("application/octet-stream");
  Sandbox sb;
  TestClient c;

  void start(SandboxConfig cfg) throws Exception {
    sb = Sandbox.start(cfg);
    c = new TestClient(sb);
    c.login();
  }

  @AfterEach
  void stop() {
    if (c != null) {
      c.close();
    }
    if (sb != null) {
      sb.close();
    }
  }

  Resp put(String url, long offset, byte[] data) throws IOException {
    return c.call(new Request.Builder().url(url + "?flush=n")
        .header("Content-Range", "bytes " + offset + "-" + (offset + data.length - 1) + "/*")
        .put(RequestBody.create(data, OCTET)));
  }

  Resp get(String url, String range) throws IOException {
    Request.Builder rb = new Request.Builder().url(url);
    if (range != null) {
      rb.header("Range", range);
    }
    return c.call(rb);
  }

  Resp patch(String url, String json) throws IOException {
    return c.call(new Request.Builder().url(url).patch(RequestBody.create(json, TestClient.JSON)));
  }

  static byte[] bytes(Resp r) {
    return r.bytes();
  }

  /** Raw HTTP over a plain socket: writes a request, reads one response. */
  static final class Raw implements AutoCloseable {
    final Socket s;
    final InputStream in;
    final OutputStream out;

    Raw(int port) throws IOException {
      s = new Socket("127.0.0.1", port);
      s.setSoTimeout(10_000);
      in = s.getInputStream();
      out = s.getOutputStream();
    }

    void write(String text) throws IOException {
      out.write(text.getBytes(StandardCharsets.ISO_8859_1));
      out.flush();
    }

    String line() throws IOException {
      ByteArrayOutputStream b = new ByteArrayOutputStream();
      int ch;
      while ((ch = in.read()) >= 0 && ch != '\n') {
        b.write(ch);
      }
      if (ch < 0 && b.size() == 0) {
        return null;
      }
      return b.toString(StandardCharsets.ISO_8859_1).replaceAll("\r$", "");
    }

    /** Status, headers (lower case) and body. */
    Map<String, String> response() throws IOException {
      Map<String, String> m = new LinkedHashMap<>();
      String status = line();
      if (status == null) {
        return null;
      }
      m.put(":status", status.split(" ")[1]);
      String h;
      while ((h = line()) != null && !h.isEmpty()) {
        int c = h.indexOf(':');
        m.put(h.substring(0, c).toLowerCase(Locale.ROOT), h.substring(c + 1).trim());
      }
      int len = Integer.parseInt(m.getOrDefault("content-length", "0"));
      m.put(":body", new String(in.readNBytes(len), StandardCharsets.UTF_8));
      return m;
    }

    @Override
    public void close() throws IOException {
      s.close();
    }
  }

  private JsonNode uploadTransfer(long size) throws IOException {
    String disk = c.createDisk("raw", size);
    return c.createTransfer(disk, "upload", "\"format\":\"raw\"");
  }

  @Test
  void putGetRoundTripAtOddOffsets() throws Exception {
    start(TestClient.fastConfig());
    JsonNode t = uploadTransfer(3 * 1024 * 1024 + 17);
    String url = t.get("transfer_url").asText();
    long size = 3 * 1024 * 1024 + 17;
    Random rnd = new Random(42);
    byte[] a = new byte[1_500_001];
    rnd.nextBytes(a);
    byte[] b = new byte[10];
    rnd.nextBytes(b);
    assertThat(put(url, 5, b).code()).isEqualTo(200);
    Resp p = put(t.get("proxy_url").asText(), 1_000_003, a);
    assertThat(p.code()).isEqualTo(200);
    assertThat(p.body()).isEmpty();
    assertThat(p.header("Server")).isEqualTo("imageio/2.5.3");

    Resp g = get(url, "bytes=5-14");
    assertThat(g.code()).isEqualTo(206);
    assertThat(g.header("Content-Range")).isEqualTo("bytes 5-14/" + size);
    assertThat(bytes(g)).isEqualTo(b);
    Resp g2 = get(url, "bytes=1000003-" + (1_000_003 + a.length - 1));
    assertThat(bytes(g2)).isEqualTo(a);
    Resp open = get(url, "bytes=" + (size - 4) + "-");
    assertThat(open.code()).isEqualTo(206);
    assertThat(bytes(open)).hasSize(4);
    Resp whole = get(url, null);
    assertThat(whole.code()).isEqualTo(200);
    byte[] all = bytes(whole);
    assertThat(all).hasSize((int) size);
    assertThat(Arrays.copyOfRange(all, 1_000_003, 1_000_003 + a.length)).isEqualTo(a);
    assertThat(all[0]).isZero();

    assertThat(get(url, "bytes=-10").code()).isEqualTo(416);
    assertThat(get(url, "bytes=0-1,5-6").code()).isEqualTo(416);
    Resp past = get(url, "bytes=" + size + "-" + (size + 10));
    assertThat(past.code()).isEqualTo(416);
    assertThat(past.header("Content-Range")).isEqualTo("bytes */" + size);
    Resp beyond = put(url, size - 1, new byte[2]);
    assertThat(beyond.code()).isEqualTo(416);
    assertThat(beyond.header("Content-Range")).isEqualTo("bytes */" + size);
    assertThat(beyond.header("Connection")).isEqualTo("close");
    assertThat(beyond.body()).isEqualTo("Requested range out of allowed range\n");

    // the file holds the bytes at the right place
    byte[] file = Files.readAllBytes(sb.diskFile(t.get("image").get("id").asText()).orElseThrow());
    assertThat(Arrays.copyOfRange(file, 5, 15)).isEqualTo(b);
    // transferred = union of completed ranges (PUTs and GETs)
    assertThat(c.get("/imagetransfers/" + t.get("id").asText()).json().get("transferred").asText())
        .isEqualTo(String.valueOf(size));
  }

  @Test
  void putValidation() throws Exception {
    start(TestClient.fastConfig().withPlainHttp(true));
    JsonNode t = uploadTransfer(1 << 20);
    String url = t.get("transfer_url").asText();
    String path = url.substring(url.indexOf("/images/"));
    try (Raw raw = new Raw(sb.daemonPort())) {
      raw.write("PUT " + path + " HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n");
      Map<String, String> r = raw.response();
      assertThat(r.get(":status")).isEqualTo("400");
      assertThat(r.get(":body")).isEqualTo("Content-Length header is required\n");
      assertThat(r.get("content-type")).startsWith("text/plain");
    }
    try (Raw raw = new Raw(sb.daemonPort())) {
      raw.write("PUT " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(raw.response().get(":status")).isEqualTo("400");
    }
    Resp badRange = c.call(new Request.Builder().url(url).header("Content-Range", "bytes 0-1")
        .put(RequestBody.create(new byte[2], OCTET)));
    assertThat(badRange.code()).isEqualTo(400);
    assertThat(badRange.body()).isEqualTo("Invalid Content-Range 'bytes 0-1'\n");
    Resp badFlush = c.call(new Request.Builder().url(url + "?flush=maybe").put(RequestBody.create(new byte[2], OCTET)));
    assertThat(badFlush.code()).isEqualTo(400);
    assertThat(badFlush.body()).isEqualTo("Unsupported value 'maybe' for 'flush', expecting one of ['n', 'y']\n");
    Resp withTotal = c.call(new Request.Builder().url(url)
        .header("Content-Range", "bytes 10-11/" + (1 << 20)).put(RequestBody.create(new byte[] {7, 8}, OCTET)));
    assertThat(withTotal.code()).isEqualTo(200);
    // no Content-Range: offset 0 (curl -T)
    assertThat(c.call(new Request.Builder().url(url + "?flush=y").put(RequestBody.create(new byte[] {9}, OCTET))).code()).isEqualTo(200);
    assertThat(bytes(get(url, "bytes=0-11"))).isEqualTo(new byte[] {9, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7, 8});
  }

  @Test
  void expectContinueAndKeepAlive() throws Exception {
    start(TestClient.fastConfig().withPlainHttp(true));
    JsonNode t = uploadTransfer(1 << 20);
    String url = t.get("transfer_url").asText();
    String path = url.substring(url.indexOf("/images/"));
    try (Raw raw = new Raw(sb.daemonPort())) {
      raw.write("PUT " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nExpect: 100-continue\r\n\r\n");
      assertThat(raw.line()).isEqualTo("HTTP/1.1 100 Continue");
      assertThat(raw.line()).isEmpty();
      raw.write("abcd");
      Map<String, String> r = raw.response();
      assertThat(r.get(":status")).isEqualTo("200");
      assertThat(r.get("server")).isEqualTo("imageio/2.5.3");
      // same connection, next request
      raw.write("GET " + path + " HTTP/1.1\r\nHost: x\r\nRange: bytes=0-3\r\n\r\n");
      Map<String, String> g = raw.response();
      assertThat(g.get(":status")).isEqualTo("206");
      assertThat(g.get(":body")).isEqualTo("abcd");
    }
  }

  @Test
  void patchZeroFlushAndExtents() throws Exception {
    start(TestClient.fastConfig());
    long mib = 1 << 20;
    JsonNode t = uploadTransfer(16 * mib);
    String url = t.get("transfer_url").asText();
    byte[] data = new byte[(int) mib];
    Arrays.fill(data, (byte) 0x5a);
    assertThat(put(url, 2 * mib, data).code()).isEqualTo(200);
    assertThat(put(url, 10 * mib, data).code()).isEqualTo(200);
    Resp z = patch(url, "{\"op\":\"zero\",\"offset\":" + (10 * mib) + ",\"size\":" + mib + ",\"flush\":false}");
    assertThat(z.code()).isEqualTo(200);
    assertThat(patch(url, "{\"op\":\"flush\"}").code()).isEqualTo(200);
    assertThat(bytes(get(url, "bytes=" + (10 * mib) + "-" + (11 * mib - 1)))).containsOnly(0);
    assertThat(bytes(get(url, "bytes=" + (2 * mib) + "-" + (3 * mib - 1)))).containsOnly(0x5a);

    JsonNode ext = c.call(new Request.Builder().url(url + "/extents")).json();
    assertThat(ext).hasSize(3);
    assertThat(ext.get(0).get("start").asLong()).isZero();
    assertThat(ext.get(0).get("length").asLong()).isEqualTo(2 * mib);
    assertThat(ext.get(0).get("zero").asBoolean()).isTrue();
    assertThat(ext.get(1).get("start").asLong()).isEqualTo(2 * mib);
    assertThat(ext.get(1).get("length").asLong()).isEqualTo(mib);
    assertThat(ext.get(1).get("zero").asBoolean()).isFalse();
    assertThat(ext.get(1).get("hole").asBoolean()).isFalse();
    assertThat(ext.get(2).get("start").asLong()).isEqualTo(3 * mib);
    assertThat(ext.get(2).get("length").asLong()).isEqualTo(13 * mib);
    assertThat(ext.get(2).get("zero").asBoolean()).isTrue();

    Resp badOp = patch(url, "{\"op\":\"trim\"}");
    assertThat(badOp.code()).isEqualTo(400);
    assertThat(badOp.body()).isEqualTo("Unsupported value 'trim' for 'op', expecting one of ['flush', 'zero']\n");
    assertThat(patch(url, "{\"op\":\"zero\"}").body()).isEqualTo("Missing required value for 'size'\n");
    assertThat(patch(url, "{nope").body()).startsWith("Invalid JSON message");
    Resp tooFar = patch(url, "{\"op\":\"zero\",\"offset\":" + (16 * mib - 1) + ",\"size\":2}");
    assertThat(tooFar.code()).isEqualTo(416);
    assertThat(c.call(new Request.Builder().url(url + "/extents?context=dirty")).code()).isEqualTo(404);
  }

  @Test
  void extentsPersistAcrossRestart() throws Exception {
    java.nio.file.Path dir = Files.createTempDirectory("sandbox-test-");
    try {
      String disk;
      start(TestClient.fastConfig().withDataDir(dir));
      JsonNode t = uploadTransfer(1 << 20);
      disk = t.get("image").get("id").asText();
      put(t.get("transfer_url").asText(), 4096, new byte[] {1, 2, 3, 4});
      c.post("/imagetransfers/" + t.get("id").asText() + "/finalize", "{}");
      TestClient.awaitValue(() -> c.phase(t.get("id").asText()), "finished_success"::equals, Duration.ofSeconds(5));
      stop();
      start(TestClient.fastConfig().withDataDir(dir));
      JsonNode d = c.createTransfer(disk, "download", null);
      JsonNode ext = c.call(new Request.Builder().url(d.get("transfer_url").asText() + "/extents")).json();
      assertThat(ext).hasSize(3);
      assertThat(ext.get(1).get("start").asLong()).isEqualTo(4096);
      assertThat(ext.get(1).get("length").asLong()).isEqualTo(4);
      assertThat(ext.get(1).get("zero").asBoolean()).isFalse();
    } finally {
      stop();
      sb = null;
      c = null;
      try (var w = Files.walk(dir)) {
        w.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      }
    }
  }

  @Test
  void optionsInfoAndTicketErrors() throws Exception {
    start(TestClient.fastConfig());
    JsonNode up = uploadTransfer(1 << 20);
    String url = up.get("transfer_url").asText();
    Resp o = c.call(new Request.Builder().url(url).method("OPTIONS", null));
    assertThat(o.code()).isEqualTo(200);
    assertThat(o.header("Allow")).isEqualTo("OPTIONS,GET,PUT,PATCH");
    assertThat(o.json().get("features").toString()).isEqualTo("[\"checksum\",\"extents\",\"flush\",\"zero\"]");
    assertThat(o.json().get("max_readers").asInt()).isEqualTo(8);
    assertThat(o.json().get("max_writers").asInt()).isEqualTo(8);

    String dlDisk = c.createDisk("raw", 4096);
    String dlUrl = c.createTransfer(dlDisk, "download", null).get("transfer_url").asText();
    Resp ro = c.call(new Request.Builder().url(dlUrl).method("OPTIONS", null));
    assertThat(ro.header("Allow")).isEqualTo("OPTIONS,GET");
    assertThat(ro.json().get("features").toString()).isEqualTo("[\"checksum\",\"extents\"]");
    Resp forbidden = put(dlUrl, 0, new byte[1]);
    assertThat(forbidden.code()).isEqualTo(403);
    assertThat(forbidden.body()).endsWith("forbids write\n");
    assertThat(forbidden.header("Connection")).isEqualTo("close");

    String base = url.substring(0, url.indexOf("/images/"));
    Resp star = c.call(new Request.Builder().url(base + "/images/*").method("OPTIONS", null));
    assertThat(star.code()).isEqualTo(200);
    assertThat(star.json().get("features")).hasSize(4);
    Resp unknown = get(base + "/images/nosuch", null);
    assertThat(unknown.code()).isEqualTo(403);
    assertThat(unknown.body()).isEqualTo("You are not allowed to access this resource: No such ticket nosuch\n");
    assertThat(unknown.header("Connection")).isEqualTo("close");
    assertThat(unknown.header("Content-Type")).startsWith("text/plain");
    Resp info = get(base + "/info/", null);
    assertThat(info.json().get("version").asText()).isEqualTo("2.5.3");
    assertThat(get(base + "/info", null).code()).isEqualTo(404);
    assertThat(c.call(new Request.Builder().url(url).delete()).code()).isEqualTo(405);

    sb.expireTicket(up.get("id").asText());
    assertThat(get(url, "bytes=0-1").body()).endsWith("expired\n");
  }

  @Test
  void checksumMatchesImageioBlkhash() throws Exception {
    start(TestClient.fastConfig());
    int mib = 1 << 20;
    JsonNode t = uploadTransfer(3L * mib);
    String url = t.get("transfer_url").asText();
    byte[] block = new byte[mib];
    for (int i = 0; i < mib; i++) {
      block[i] = (byte) (i * 7);
    }
    put(url, mib, block);
    // values computed with Python's hashlib (imageio's blkhash construction)
    JsonNode b2 = c.call(new Request.Builder().url(url + "/checksum?block_size=1048576")).json();
    assertThat(b2.get("algorithm").asText()).isEqualTo("blake2b");
    assertThat(b2.get("checksum").asText()).isEqualTo("61959819b9e6e21e9359eec488c790ebaa43b06e08489449e2621630870fd883");
    JsonNode s2 = c.call(new Request.Builder().url(url + "/checksum?algorithm=sha256&block_size=1048576")).json();
    assertThat(s2.get("checksum").asText()).isEqualTo("6c73fc970a0b708b632082181ba90ef2540e360f53432254fea5b0ffbc4ea2ef");
    assertThat(c.call(new Request.Builder().url(url + "/checksum?block_size=1000")).code()).isEqualTo(400);
    Checksums.Blake2b h = new Checksums.Blake2b(32);
    h.update("abc".getBytes(StandardCharsets.US_ASCII), 0, 3);
    assertThat(HexFormat.of().formatHex(h.digest())).isEqualTo("bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319");
  }

  @Test
  void tlsTrustedWithCaAndRejectedWithout() throws Exception {
    start(TestClient.fastConfig());
    assertThat(c.get("/hosts").code()).isEqualTo(200); // c trusts ca.pem
    OkHttpClient plain = new OkHttpClient.Builder().build();
    try {
      assertThatThrownBy(() -> plain.newCall(new Request.Builder().url(sb.engineUrl() + "/ovirt-engine/api").build()).execute().close())
          .isInstanceOf(SSLException.class);
      assertThatThrownBy(() -> plain.newCall(new Request.Builder().url("https://127.0.0.1:" + sb.daemonPort() + "/info/").build()).execute().close())
          .isInstanceOf(SSLException.class);
    } finally {
      plain.dispatcher().executorService().shutdown();
      plain.connectionPool().evictAll();
    }
    // localhost is in the certificate too
    Resp viaLocalhost = c.call(new Request.Builder().url(sb.engineUrl().replace("127.0.0.1", "localhost") + "/ovirt-engine/api")
        .header("Authorization", "Bearer " + c.token));
    assertThat(viaLocalhost.code()).isEqualTo(200);
  }

  @Test
  void idleKeepAliveConnectionIsClosedAfterInactivityTimeout() throws Exception {
    start(TestClient.fastConfig().withPlainHttp(true));
    String disk = c.createDisk("raw", 4096);
    String url = c.createTransfer(disk, "upload", "\"inactivity_timeout\":1,\"timeout_policy\":\"pause\"").get("transfer_url").asText();
    String path = url.substring(url.indexOf("/images/"));
    try (Raw raw = new Raw(sb.daemonPort())) {
      raw.write("OPTIONS " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
      assertThat(raw.response().get(":status")).isEqualTo("200");
      long t0 = System.nanoTime();
      assertThat(raw.in.read()).isEqualTo(-1); // closed silently, no response
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(Duration.ofMillis(800), Duration.ofSeconds(5));
    }
  }

  @Test
  void stopDaemonLeavesProxyWorking() throws Exception {
    start(TestClient.fastConfig());
    JsonNode t = uploadTransfer(4096);
    sb.stopDaemon();
    assertThatThrownBy(() -> new Socket("127.0.0.1", sb.daemonPort()).close()).isInstanceOf(ConnectException.class);
    assertThat(put(t.get("proxy_url").asText(), 0, new byte[] {1}).code()).isEqualTo(200);
    assertThatThrownBy(() -> put(t.get("transfer_url").asText(), 0, new byte[] {1})).isInstanceOf(IOException.class);
  }

  @Test
  void faultHookResetsAfterBytesAndResponds() throws Exception {
    start(TestClient.fastConfig());
    JsonNode t = uploadTransfer(1 << 20);
    String url = t.get("transfer_url").asText();
    AtomicInteger calls = new AtomicInteger();
    sb.setFaultHook(r -> {
      if (!r.dataPlane() || !r.method().equals("PUT")) {
        return null;
      }
      int n = calls.incrementAndGet();
      return n == 1 ? FaultHook.Action.resetAfter(1000) : n == 2 ? FaultHook.Action.respond(503, "try later") : null;
    });
    assertThatThrownBy(() -> put(url, 0, new byte[100_000])).isInstanceOf(IOException.class);
    Resp busy = put(url, 0, new byte[10]);
    assertThat(busy.code()).isEqualTo(503);
    assertThat(busy.header("Server")).isEqualTo("imageio/2.5.3");
    assertThat(put(url, 0, new byte[10]).code()).isEqualTo(200);
    sb.setFaultHook(null);
  }
}
