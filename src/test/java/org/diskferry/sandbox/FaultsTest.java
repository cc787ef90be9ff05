package org.diskferry.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import okhttp3.Request;
import okhttp3.RequestBody;
import org.diskferry.sandbox.DataPlaneTest.Raw;
import org.diskferry.sandbox.FaultSpec.Kind;
import org.diskferry.sandbox.TestClient.Resp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** Each --faults rule, seen by a client over real sockets against a started sandbox. */
class FaultsTest {
  Sandbox sb;
  TestClient c;
  JsonNode transfer;
  String url;
  String path;

  void start(SandboxConfig cfg, long diskSize) throws Exception {
    sb = Sandbox.start(cfg.withPlainHttp(true));
    c = new TestClient(sb);
    c.login();
    String disk = c.createDisk("raw", diskSize);
    transfer = c.createTransfer(disk, "upload", null);
    url = transfer.get("transfer_url").asText();
    path = url.substring(url.indexOf("/images/"));
  }

  void start(long diskSize) throws Exception {
    start(TestClient.fastConfig(), diskSize);
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

  FaultSpec.Injector faults(String spec) {
    return FaultSpec.parse(spec).install(sb);
  }

  Resp put(String u, long offset, byte[] data) throws IOException {
    return c.call(new Request.Builder().url(u + "?flush=n")
        .header("Content-Range", "bytes " + offset + "-" + (offset + data.length - 1) + "/*")
        .put(RequestBody.create(data, DataPlaneTest.OCTET)));
  }

  Resp get(String u, String range) throws IOException {
    return c.call(new Request.Builder().url(u).header("Range", range));
  }

  Resp options(String u) throws IOException {
    return c.call(new Request.Builder().url(u).method("OPTIONS", null));
  }

  static Map<String, String> options(Raw raw, String path) throws IOException {
    raw.write("OPTIONS " + path + " HTTP/1.1\r\nHost: x\r\n\r\n");
    return raw.response();
  }

  /** -1 at a clean close, -2 at a reset: either way the server dropped the connection. */
  static int readEnd(Raw raw) {
    try {
      return raw.in.read();
    } catch (IOException e) {
      return -2;
    }
  }

  @Test
  void resetCutsRequestAndResponseBodies() throws Exception {
    start(1 << 20);
    FaultSpec.Injector f = faults("reset:after=64K:on=put");
    assertThatThrownBy(() -> put(url, 0, new byte[1 << 20])).isInstanceOf(IOException.class);
    assertThat(options(url).code()).isEqualTo(200); // OPTIONS is not matched
    assertThat(f.injected(Kind.RESET)).isEqualTo(1);

    f = faults("reset:after=1000:on=get");
    assertThat(put(url, 0, new byte[4096]).code()).isEqualTo(200);
    assertThatThrownBy(() -> get(url, "bytes=0-1048575")).isInstanceOf(IOException.class);
    assertThat(f.injected()).isEqualTo(1);

    f = faults("reset:on=api");
    assertThatThrownBy(() -> c.get("/disks")).isInstanceOf(IOException.class);
    assertThat(options(url).code()).isEqualTo(200);
    assertThat(f.injected()).isEqualTo(1);
  }

  @Test
  void statusAnswersWithRetryAfterAndCloses() throws Exception {
    start(4096);
    FaultSpec.Injector f = faults("status:code=503:retry-after=1:on=put|api");
    Resp r = put(url, 0, new byte[10]);
    assertThat(r.code()).isEqualTo(503);
    assertThat(r.header("Retry-After")).isEqualTo("1");
    assertThat(r.header("Connection")).isEqualTo("close");
    assertThat(r.header("Server")).isEqualTo("imageio/2.5.3");
    assertThat(r.body()).isEqualTo("Service Unavailable\n");
    assertThat(options(url).code()).isEqualTo(200);
    assertThat(c.get("/disks").code()).isEqualTo(503);
    assertThat(f.injected(Kind.STATUS)).isEqualTo(2);

    // rate: a seeded fraction, the same one on a replay
    f = faults("status:code=500:rate=0.5,seed=7");
    StringBuilder first = new StringBuilder();
    for (int i = 0; i < 20; i++) {
      first.append(options(url).code() == 500 ? 'x' : '.');
    }
    faults("status:code=500:rate=0.5,seed=7");
    StringBuilder replay = new StringBuilder();
    for (int i = 0; i < 20; i++) {
      replay.append(options(url).code() == 500 ? 'x' : '.');
    }
    assertThat(replay.toString()).isEqualTo(first.toString()).contains("x", ".");
    assertThat(f.injected()).isEqualTo(first.chars().filter(ch -> ch == 'x').count());
  }

  @Test
  void stallDelaysTheResponse() throws Exception {
    start(4096);
    FaultSpec.Injector f = faults("stall:ms=400:on=options");
    long t0 = System.nanoTime();
    assertThat(options(url).code()).isEqualTo(200);
    assertThat(Duration.ofNanos(System.nanoTime() - t0)).isGreaterThanOrEqualTo(Duration.ofMillis(400));
    assertThat(put(url, 0, new byte[10]).code()).isEqualTo(200);
    assertThat(f.injected()).isEqualTo(1);
  }

  @Test
  void expireAnswers403AfterTheNthDataRequest() throws Exception {
    // a slow engine tick: the ticket is not renewed during the test
    start(TestClient.fastConfig().withTick(Duration.ofSeconds(30)), 4096);
    FaultSpec.Injector f = faults("expire:after=2");
    assertThat(options(url).code()).isEqualTo(200);
    assertThat(put(url, 0, new byte[10]).code()).isEqualTo(200);
    Resp r = put(url, 0, new byte[10]);
    assertThat(r.code()).isEqualTo(403);
    assertThat(r.body()).endsWith("expired\n");
    assertThat(f.injected(Kind.EXPIRE)).isEqualTo(1);
    assertThat(options(url).code()).isEqualTo(403);
    assertThat(f.injected(Kind.EXPIRE)).isEqualTo(1); // once per transfer
  }

  @Test
  void pauseMovesTheTransferToPausedSystem() throws Exception {
    start(4096);
    String id = transfer.get("id").asText();
    FaultSpec.Injector f = faults("pause:after=2");
    assertThat(options(url).code()).isEqualTo(200);
    assertThat(c.phase(id)).isEqualTo("transferring");
    assertThat(put(url, 0, new byte[10]).code()).isEqualTo(200);
    // the client has its answer before the hook acts on it: poll, as a client does
    TestClient.awaitValue(() -> c.phase(id), "paused_system"::equals, Duration.ofSeconds(2));
    assertThat(f.injected(Kind.PAUSE)).isEqualTo(1);
  }

  @Test
  void idleCloseDropsIdleDataConnectionsEarly() throws Exception {
    start(4096); // the transfer's inactivity timeout is 60 s
    FaultSpec.Injector f = faults("idle-close:ms=300");
    try (Raw raw = new Raw(sb.daemonPort())) {
      Thread.sleep(500); // a new connection's first request is not an idle wait
      assertThat(options(raw, path).get(":status")).isEqualTo("200");
      long t0 = System.nanoTime();
      assertThat(readEnd(raw)).isNegative();
      assertThat(Duration.ofNanos(System.nanoTime() - t0)).isBetween(Duration.ofMillis(250), Duration.ofSeconds(5));
    }
    TestClient.await(() -> f.injected(Kind.IDLE_CLOSE) == 1, Duration.ofSeconds(2));
    // an API connection on the engine listener keeps its own timeout
    try (Raw api = new Raw(sb.enginePort())) {
      api.write("GET /ovirt-engine/api HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + c.token + "\r\n\r\n");
      assertThat(api.response().get(":status")).isEqualTo("200");
      Thread.sleep(600);
      api.write("GET /ovirt-engine/api HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + c.token + "\r\n\r\n");
      assertThat(api.response().get(":status")).isEqualTo("200");
    }
  }

  @Test
  void restartDropsDataConnectionsAndListensAgain() throws Exception {
    start(4096);
    FaultSpec.Injector f = faults("restart:after=2");
    try (Raw daemon = new Raw(sb.daemonPort());
        Raw proxy = new Raw(sb.enginePort());
        Raw api = new Raw(sb.enginePort())) {
      String auth = "GET /ovirt-engine/api HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + c.token + "\r\n\r\n";
      api.write(auth);
      assertThat(api.response().get(":status")).isEqualTo("200");
      assertThat(options(daemon, path).get(":status")).isEqualTo("200"); // data request 1
      assertThat(options(proxy, path).get(":status")).isEqualTo("200"); // data request 2: restart
      TestClient.await(() -> f.injected(Kind.RESTART) == 1, Duration.ofSeconds(10));
      assertThat(readEnd(daemon)).isNegative();
      assertThat(readEnd(proxy)).isNegative();
      api.write(auth); // a connection that never used a ticket stays
      assertThat(api.response().get(":status")).isEqualTo("200");
    }
    // same port, the ticket survived, and it happens once
    for (int i = 0; i < 3; i++) {
      assertThat(put(url, 0, new byte[10]).code()).isEqualTo(200);
    }
    assertThat(f.injected(Kind.RESTART)).isEqualTo(1);
  }
}
