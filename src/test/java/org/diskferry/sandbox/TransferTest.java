package org.diskferry.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;
import org.diskferry.sandbox.TestClient.Resp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

class TransferTest {
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

  private static final Duration T = Duration.ofSeconds(5);

  private Resp put(String url, long offset, byte[] data) throws Exception {
    return c.call(new Request.Builder().url(url + "?flush=n")
        .header("Content-Range", "bytes " + offset + "-" + (offset + data.length - 1) + "/*")
        .put(RequestBody.create(data, MediaType.get("application/octet-stream"))));
  }

  @Test
  void createRendersTransferringWithDistinctTicket() throws Exception {
    start(TestClient.fastConfig());
    String disk = c.createDisk("raw", 1 << 20);
    Resp r = c.post("/imagetransfers", "{\"disk\":{\"id\":\"" + disk + "\"},\"direction\":\"upload\",\"format\":\"raw\",\"inactivity_timeout\":120}");
    assertThat(r.code()).isEqualTo(201);
    JsonNode t = r.json();
    String id = t.get("id").asText();
    assertThat(r.header("Location")).endsWith("/ovirt-engine/api/imagetransfers/" + id);
    assertThat(t.get("phase").asText()).isEqualTo("transferring");
    String url = t.get("transfer_url").asText();
    String proxy = t.get("proxy_url").asText();
    assertThat(url).startsWith("https://127.0.0.1:" + sb.daemonPort() + "/images/");
    assertThat(proxy).startsWith(sb.engineUrl() + "/images/");
    String ticket = url.substring(url.lastIndexOf('/') + 1);
    assertThat(proxy).endsWith("/" + ticket);
    assertThat(ticket).isNotEqualTo(id);
    assertThat(t.get("image").get("id").asText()).isEqualTo(disk);
    assertThat(t.has("disk")).isFalse();
    assertThat(t.has("signed_ticket")).isFalse();
    assertThat(t.get("host").get("id").asText()).isNotEmpty();
    assertThat(t.get("host").get("href").asText()).contains("/hosts/");
    assertThat(t.get("inactivity_timeout").asText()).isEqualTo("120");
    assertThat(t.get("timeout_policy").asText()).isEqualTo("legacy");
    assertThat(t.get("active").asText()).isEqualTo("false");
    assertThat(t.get("shallow").asText()).isEqualTo("false");
    assertThat(t.get("transferred").asText()).isEqualTo("0");
    List<String> rels = new ArrayList<>();
    t.get("actions").get("link").forEach(l -> rels.add(l.get("rel").asText()));
    assertThat(rels).containsExactlyInAnyOrder("cancel", "extend", "finalize", "pause", "resume");
    assertThat(c.get("/imagetransfers").json().get("image_transfer")).hasSize(1);

    assertThat(sb.diskStatus(disk)).contains("locked");
    assertThat(c.get("/disks/" + disk).json().get("status").asText()).isEqualTo("locked");
    Resp second = c.post("/imagetransfers", "{\"disk\":{\"id\":\"" + disk + "\"}}");
    assertThat(second.code()).isEqualTo(409);
    assertThat(second.json().get("detail").asText()).contains("locked");
    assertThat(c.delete("/disks/" + disk).code()).isEqualTo(409);
  }

  @Test
  void transferValidation() throws Exception {
    start(TestClient.fastConfig());
    assertThat(c.post("/imagetransfers", "{\"direction\":\"upload\"}").code()).isEqualTo(400);
    Resp missing = c.post("/imagetransfers", "{\"disk\":{\"id\":\"7d0bdc3a-7a4d-4e37-9b0b-000000000000\"}}");
    assertThat(missing.code()).isEqualTo(404);
    assertThat(missing.json().has("reason")).isTrue();
    assertThat(c.post("/imagetransfers", "{\"disk\":{\"id\":\"nope\"}}").code()).isEqualTo(400);
    assertThat(c.post("/imagetransfers", "{\"disk\":{\"id\":\"7d0bdc3a-7a4d-4e37-9b0b-000000000000\"},\"signed_ticket\":\"x\"}").code()).isEqualTo(400);
    assertThat(c.get("/imagetransfers").json().size()).isZero();
    // a disk still being created is locked
    Resp d = c.post("/disks", "{\"format\":\"raw\",\"provisioned_size\":4096,\"storage_domains\":{\"storage_domain\":[{\"name\":\"data\"}]}}");
    assertThat(c.post("/imagetransfers", "{\"disk\":{\"id\":\"" + d.json().get("id").asText() + "\"}}").code()).isEqualTo(409);
  }

  @Test
  void actionsChangePhaseAtOnce() throws Exception {
    start(TestClient.fastConfig());
    String disk = c.createDisk("raw", 1 << 20);
    String id = c.createTransfer(disk, "upload", null).get("id").asText();
    Resp notPaused = c.post("/imagetransfers/" + id + "/resume", "{}");
    assertThat(notPaused.code()).isEqualTo(409);
    assertThat(notPaused.json().get("detail").asText()).startsWith("[Cannot resume");
    Resp ext = c.post("/imagetransfers/" + id + "/extend", "{}");
    assertThat(ext.code()).isEqualTo(200);
    assertThat(ext.json().get("status").asText()).isEqualTo("complete");
    assertThat(c.post("/imagetransfers/" + id + "/pause", "{}").code()).isEqualTo(200);
    assertThat(c.phase(id)).isEqualTo("paused_user");
    assertThat(sb.diskStatus(disk)).contains("locked");
    assertThat(c.post("/imagetransfers/" + id + "/resume", "{}").code()).isEqualTo(200);
    assertThat(c.phase(id)).isEqualTo("resuming");
    TestClient.awaitValue(() -> c.phase(id), "transferring"::equals, T);
    assertThat(c.post("/imagetransfers/" + id + "/pause", "{}", "Expect", "202-accepted").code()).isEqualTo(202);

    String dl = c.createDisk("raw", 4096);
    String dlId = c.createTransfer(dl, "download", null).get("id").asText();
    Resp pauseDl = c.post("/imagetransfers/" + dlId + "/pause", "{}");
    assertThat(pauseDl.code()).isEqualTo(400);
    assertThat(pauseDl.json().get("detail").asText()).contains("Cannot pause image download");

    // unknown transfer: 200
    Resp unknown = c.post("/imagetransfers/7d0bdc3a-7a4d-4e37-9b0b-000000000000/finalize", "{}");
    assertThat(unknown.code()).isEqualTo(200);
    assertThat(unknown.json().get("status").asText()).isEqualTo("complete");
    assertThat(c.get("/imagetransfers/7d0bdc3a-7a4d-4e37-9b0b-000000000000").code()).isEqualTo(404);
  }

  @Test
  void cancelUploadDeletesDisk() throws Exception {
    start(TestClient.fastConfig());
    String disk = c.createDisk("raw", 1 << 20);
    JsonNode t = c.createTransfer(disk, "upload", null);
    String id = t.get("id").asText();
    assertThat(put(t.get("transfer_url").asText(), 0, new byte[4096]).code()).isEqualTo(200);
    assertThat(c.post("/imagetransfers/" + id + "/cancel", "{}").code()).isEqualTo(200);
    assertThat(c.phase(id)).isEqualTo("cancelled_user");
    TestClient.awaitValue(() -> c.phase(id), "finished_failure"::equals, T);
    JsonNode fin = c.get("/imagetransfers/" + id).json();
    assertThat(fin.has("transfer_url")).isFalse();
    assertThat(fin.has("proxy_url")).isFalse();
    assertThat(sb.diskStatus(disk)).isEmpty();
    assertThat(c.get("/disks/" + disk).code()).isEqualTo(404);
    // actions on a finished transfer still answer 200 and change nothing
    assertThat(c.post("/imagetransfers/" + id + "/finalize", "{}").code()).isEqualTo(200);
    assertThat(c.phase(id)).isEqualTo("finished_failure");
    TestClient.awaitValue(() -> c.phase(id), "404"::equals, T);
  }

  @Test
  void cancelDownloadKeepsDisk() throws Exception {
    start(TestClient.fastConfig());
    String disk = c.createDisk("raw", 1 << 20);
    String id = c.createTransfer(disk, "download", null).get("id").asText();
    c.post("/imagetransfers/" + id + "/cancel", "{}");
    TestClient.awaitValue(() -> c.phase(id), "finished_failure"::equals, T);
    assertThat(sb.diskStatus(disk)).contains("ok");
  }

  @Test
  void finalizeTurnsDiskOkBeforeFinishedSuccessThenCleanup() throws Exception {
    start(TestClient.fastConfig().withTick(Duration.ofMillis(40)));
    String disk = c.createDisk("raw", 1 << 20);
    JsonNode t = c.createTransfer(disk, "upload", "\"format\":\"raw\"");
    String id = t.get("id").asText();
    byte[] data = "hello sandbox".getBytes(StandardCharsets.US_ASCII);
    assertThat(put(t.get("transfer_url").asText(), 1000, data).code()).isEqualTo(200);
    assertThat(c.post("/imagetransfers/" + id + "/finalize", "{}").code()).isEqualTo(200);
    assertThat(c.phase(id)).isEqualTo("finalizing_success");
    boolean sawOkWhileFinalizing = false;
    long end = System.nanoTime() + T.toNanos();
    String phase;
    while (true) {
      // read the disk first, then the phase: a finished_success seen after ok proves the order
      String status = c.get("/disks/" + disk).json().get("status").asText();
      phase = c.phase(id);
      if (phase.equals("finalizing_success") && status.equals("ok")) {
        sawOkWhileFinalizing = true;
      }
      if (phase.equals("finished_success")) {
        assertThat(status).isNotEqualTo("locked");
        break;
      }
      assertThat(phase).isEqualTo("finalizing_success");
      assertThat(System.nanoTime()).isLessThan(end);
      Thread.sleep(5);
    }
    assertThat(sawOkWhileFinalizing).isTrue();
    assertThat(sb.diskStatus(disk)).contains("ok");
    assertThat(c.get("/imagetransfers/" + id).json().get("transferred").asText()).isEqualTo("13");
    TestClient.awaitValue(() -> c.phase(id), "404"::equals, T);
    // the ticket is gone
    assertThat(put(t.get("transfer_url").asText(), 0, data).code()).isEqualTo(403);
    // the disk is free for another transfer
    c.createTransfer(disk, "download", null);
  }

  @Test
  void legacyRemovalGives404RightAfterFinished() throws Exception {
    start(TestClient.fastConfig().withLegacyRemoval(true).withCleanupDelay(Duration.ofMinutes(10)));
    String disk = c.createDisk("raw", 1 << 20);
    String id = c.createTransfer(disk, "upload", null).get("id").asText();
    c.post("/imagetransfers/" + id + "/finalize", "{}");
    List<String> seen = new ArrayList<>();
    String p = TestClient.awaitValue(() -> c.phase(id), v -> { seen.add(v); return v.equals("404"); }, T);
    assertThat(p).isEqualTo("404");
    assertThat(seen).doesNotContain("finished_success");
    assertThat(sb.diskStatus(disk)).contains("ok");
  }

  @Test
  void initializingForConfiguredPolls() throws Exception {
    start(TestClient.fastConfig().withInitializingPolls(3));
    String disk = c.createDisk("raw", 1 << 20);
    JsonNode t = c.createTransfer(disk, "upload", null);
    assertThat(t.get("phase").asText()).isEqualTo("initializing");
    assertThat(t.has("transfer_url")).isFalse();
    String id = t.get("id").asText();
    TestClient.awaitValue(() -> c.phase(id), "transferring"::equals, T);
    assertThat(c.get("/imagetransfers/" + id).json().has("transfer_url")).isTrue();
  }

  @Test
  void inactivityPausesLegacyUploadAndCancelsDownload() throws Exception {
    start(TestClient.fastConfig());
    String up = c.createDisk("raw", 1 << 20);
    String dl = c.createDisk("raw", 1 << 20);
    String upId = c.createTransfer(up, "upload", "\"inactivity_timeout\":1").get("id").asText();
    String dlId = c.createTransfer(dl, "download", "\"inactivity_timeout\":1").get("id").asText();
    // extend does not count as activity
    c.post("/imagetransfers/" + upId + "/extend", "{}");
    TestClient.awaitValue(() -> c.phase(upId), "paused_system"::equals, T);
    assertThat(sb.diskStatus(up)).contains("locked");
    TestClient.awaitValue(() -> c.phase(dlId), "finished_failure"::equals, T);
    assertThat(sb.diskStatus(dl)).contains("ok");
    // resume brings the upload back
    c.post("/imagetransfers/" + upId + "/resume", "{}");
    TestClient.awaitValue(() -> c.phase(upId), "transferring"::equals, T);
  }

  @Test
  void inactivityWithCancelPolicyDeletesUploadDisk() throws Exception {
    start(TestClient.fastConfig());
    String up = c.createDisk("raw", 1 << 20);
    String id = c.createTransfer(up, "upload", "\"inactivity_timeout\":1,\"timeout_policy\":\"cancel\"").get("id").asText();
    TestClient.awaitValue(() -> c.phase(id), "finished_failure"::equals, T);
    assertThat(sb.diskStatus(up)).isEmpty();
  }

  @Test
  void qcow2DataIntoRawDiskFailsVerification() throws Exception {
    start(TestClient.fastConfig());
    String disk = c.createDisk("raw", 1 << 20);
    JsonNode t = c.createTransfer(disk, "upload", "\"format\":\"cow\"");
    String id = t.get("id").asText();
    byte[] header = new byte[512];
    header[0] = 'Q';
    header[1] = 'F';
    header[2] = 'I';
    header[3] = (byte) 0xfb;
    header[7] = 3;
    assertThat(put(t.get("proxy_url").asText(), 0, header).code()).isEqualTo(200);
    c.post("/imagetransfers/" + id + "/finalize", "{}");
    List<String> seen = new ArrayList<>();
    TestClient.awaitValue(() -> c.phase(id), v -> { seen.add(v); return v.equals("finished_failure"); }, T);
    assertThat(seen).doesNotContain("finished_success");
    assertThat(sb.diskStatus(disk)).isEmpty();
  }

  @Test
  void rawTransferAlwaysPassesVerification() throws Exception {
    start(TestClient.fastConfig());
    String disk = c.createDisk("cow", 1 << 20);
    JsonNode t = c.createTransfer(disk, "upload", "\"format\":\"raw\"");
    assertThat(put(t.get("transfer_url").asText(), 0, new byte[] {1, 2, 3}).code()).isEqualTo(200);
    c.post("/imagetransfers/" + t.get("id").asText() + "/finalize", "{}");
    TestClient.awaitValue(() -> c.phase(t.get("id").asText()), "finished_success"::equals, T);
    assertThat(sb.diskStatus(disk)).contains("ok");
  }

  @Test
  void downloadAutoFinalizesWhenAllBytesWereRead() throws Exception {
    start(TestClient.fastConfig());
    String disk = c.createDisk("raw", 65536);
    JsonNode t = c.createTransfer(disk, "download", null);
    Resp r = c.call(new Request.Builder().url(t.get("transfer_url").asText()));
    assertThat(r.code()).isEqualTo(200);
    assertThat(r.bytes()).hasSize(65536);
    String id = t.get("id").asText();
    TestClient.awaitValue(() -> c.phase(id), "finished_success"::equals, T);
    assertThat(sb.diskStatus(disk)).contains("ok");
  }
}
