package org.diskferry.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import okhttp3.Credentials;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;
import org.diskferry.cli.Main;
import org.diskferry.sandbox.TestClient.Resp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The VM backup and checkpoint API of the sandbox, over real sockets. */
class BackupApiTest {
  private static final Duration T = Duration.ofSeconds(10);
  private static final int K64 = 64 * 1024;
  private static final int M = 1 << 20;

  private Sandbox sb;
  private TestClient c;

  private void start(SandboxConfig cfg, String... vms) throws Exception {
    List<VmSpec> specs = new ArrayList<>();
    for (String v : vms) {
      specs.add(VmSpec.parse(v));
    }
    sb = Sandbox.start(cfg.withVms(specs));
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

  // ---- helpers ----

  private static byte[] pattern(int length, int seed) {
    byte[] b = new byte[length];
    for (int i = 0; i < length; i++) {
      b[i] = (byte) (seed * 31 + i * 7 + 1);
    }
    return b;
  }

  private Resp guestWrite(String vmId, String diskId, long offset, byte[] data, String user,
      String password) throws Exception {
    return c.call(new Request.Builder()
        .url(sb.engineUrl() + "/sandbox/vms/" + vmId + "/disks/" + diskId + "/guest")
        .header("Authorization", Credentials.basic(user, password))
        .header("Content-Range", "bytes " + offset + "-" + (offset + data.length - 1) + "/*")
        .put(RequestBody.create(data, MediaType.get("application/octet-stream"))));
  }

  private void guestWrite(String vmId, String diskId, long offset, byte[] data) throws Exception {
    Resp r = guestWrite(vmId, diskId, offset, data, sb.username(), sb.password());
    assertThat(r.code()).as(r.body()).isEqualTo(200);
  }

  private String startBackup(String vmId, String from, String... disks) throws Exception {
    String id = UUID.randomUUID().toString();
    Resp r = c.post("/vms/" + vmId + "/backups", backupBody(id, from, disks));
    assertThat(r.code()).as(r.body()).isEqualTo(201);
    assertThat(r.json().get("id").asText()).isEqualTo(id);
    assertThat(r.json().get("phase").asText()).isEqualTo("initializing");
    assertThat(r.header("location")).endsWith("/ovirt-engine/api/vms/" + vmId + "/backups/" + id);
    return id;
  }

  private static String backupBody(String id, String from, String... disks) {
    StringBuilder b = new StringBuilder("{");
    if (id != null) {
      b.append("\"id\":\"").append(id).append("\",");
    }
    if (from != null) {
      b.append("\"from_checkpoint_id\":\"").append(from).append("\",");
    }
    b.append("\"disks\":{\"disk\":[");
    for (int i = 0; i < disks.length; i++) {
      b.append(i > 0 ? "," : "").append("{\"id\":\"").append(disks[i]).append("\"}");
    }
    return b.append("]}}").toString();
  }

  /** Polls the backup until it reaches the phase; returns every phase seen, in order. */
  private List<String> awaitPhase(String vmId, String backupId, String phase) throws Exception {
    List<String> seen = new ArrayList<>();
    TestClient.awaitValue(() -> {
      Resp r = c.get("/vms/" + vmId + "/backups/" + backupId);
      assertThat(r.code()).as(r.body()).isEqualTo(200);
      String p = r.json().get("phase").asText();
      if (seen.isEmpty() || !seen.get(seen.size() - 1).equals(p)) {
        seen.add(p);
      }
      return p;
    }, phase::equals, T);
    return seen;
  }

  private JsonNode backupTransfer(String backupId, String diskId) throws Exception {
    return c.createTransfer(diskId, "download",
        "\"backup\":{\"id\":\"" + backupId + "\"},\"format\":\"raw\"");
  }

  private byte[] read(JsonNode transfer, long offset, int length) throws Exception {
    Resp r = c.call(new Request.Builder().url(transfer.get("transfer_url").asText())
        .header("Range", "bytes=" + offset + "-" + (offset + length - 1)).get());
    assertThat(r.code()).isEqualTo(206);
    return r.bytes();
  }

  private Resp extents(JsonNode transfer, String context) throws Exception {
    return c.call(new Request.Builder()
        .url(transfer.get("transfer_url").asText() + "/extents?context=" + context).get());
  }

  /** [start, end) of the extents with this flag set to true, adjacent ones merged. */
  private static List<long[]> flagged(JsonNode extents, String flag) {
    List<long[]> out = new ArrayList<>();
    long pos = 0;
    for (JsonNode e : extents) {
      assertThat(e.get("start").asLong()).isEqualTo(pos); // contiguous, from 0
      pos += e.get("length").asLong();
      if (e.get(flag).asBoolean()) {
        long start = e.get("start").asLong();
        if (!out.isEmpty() && out.get(out.size() - 1)[1] == start) {
          out.get(out.size() - 1)[1] = pos;
        } else {
          out.add(new long[] {start, pos});
        }
      }
    }
    return out;
  }

  private static long end(JsonNode extents) {
    JsonNode last = extents.get(extents.size() - 1);
    return last.get("start").asLong() + last.get("length").asLong();
  }

  private void finishTransfer(JsonNode transfer) throws Exception {
    String id = transfer.get("id").asText();
    assertThat(c.post("/imagetransfers/" + id + "/finalize", "{}").code()).isEqualTo(200);
    TestClient.awaitValue(() -> c.phase(id), p -> p.equals("finished_success") || p.equals("404"), T);
  }

  private void finalizeBackup(String vmId, String backupId) throws Exception {
    Resp r = c.post("/vms/" + vmId + "/backups/" + backupId + "/finalize", "{}");
    assertThat(r.code()).as(r.body()).isEqualTo(200);
    List<String> seen = awaitPhase(vmId, backupId, "succeeded");
    assertThat(seen.get(0)).isIn("finalizing", "succeeded");
  }

  private static List<String> ids(JsonNode collection, String singular) {
    List<String> out = new ArrayList<>();
    for (JsonNode n : collection.path(singular)) {
      out.add(n.get("id").asText());
    }
    return out;
  }

  // ---- tests ----

  @Test
  void vmsAndDiskAttachments() throws Exception {
    start(TestClient.fastConfig(), "web:4M,2M", "db:raw:1M", "off:down:1M");
    JsonNode all = c.get("/vms").json().get("vm");
    assertThat(all).hasSize(3);
    JsonNode web = c.get("/vms?search=name%3Dweb").json().get("vm");
    assertThat(web).hasSize(1);
    String vmId = web.get(0).get("id").asText();
    assertThat(vmId).isEqualTo(sb.vmId("web").orElseThrow());
    assertThat(web.get(0).get("name").asText()).isEqualTo("web");
    assertThat(web.get(0).get("status").asText()).isEqualTo("up");
    assertThat(c.get("/vms?search=name%3Doff").json().get("vm").get(0).get("status").asText())
        .isEqualTo("down");
    assertThat(c.get("/vms?search=name%3Dnothing").json().has("vm")).isFalse();

    JsonNode atts = c.get("/vms/" + vmId + "/diskattachments").json().get("disk_attachment");
    assertThat(atts).hasSize(2);
    List<String> diskIds = sb.vmDiskIds("web");
    for (int i = 0; i < 2; i++) {
      JsonNode a = atts.get(i);
      assertThat(a.get("disk").get("id").asText()).isEqualTo(diskIds.get(i));
      assertThat(a.get("active").asText()).isEqualTo("true");
      assertThat(a.get("interface").asText()).isEqualTo("virtio_scsi");
      assertThat(a.get("pass_discard").asText()).isEqualTo("false");
      assertThat(a.get("bootable").asText()).isEqualTo(i == 0 ? "true" : "false");
      JsonNode disk = c.get("/disks/" + diskIds.get(i)).json();
      assertThat(disk.get("name").asText()).isEqualTo("web-disk" + (i + 1));
      assertThat(disk.get("format").asText()).isEqualTo("cow");
      assertThat(disk.get("backup").asText()).isEqualTo("incremental");
      assertThat(disk.get("sparse").asText()).isEqualTo("true");
      assertThat(disk.get("provisioned_size").asLong()).isEqualTo(i == 0 ? 4 * M : 2 * M);
    }
    assertThat(c.get("/vms/" + vmId + "/diskattachments/" + diskIds.get(1)).json()
        .get("bootable").asText()).isEqualTo("false");
    JsonNode raw = c.get("/disks/" + sb.vmDiskIds("db").get(0)).json();
    assertThat(raw.get("format").asText()).isEqualTo("raw");
    assertThat(raw.get("backup").asText()).isEqualTo("none");

    assertThat(c.get("/vms/" + vmId).json().has("initialization")).isFalse();
    String ovf = c.get("/vms/" + vmId + "?all_content=true").json()
        .get("initialization").get("configuration").get("data").asText();
    assertThat(c.get("/vms/" + vmId + "?all_content=true").json()
        .get("initialization").get("configuration").get("type").asText()).isEqualTo("ovf");
    assertThat(ovf).startsWith("<?xml").contains("<Name>web</Name>")
        .contains("ovf:disk-alias=\"web-disk1\"").contains("ovf:disk-alias=\"web-disk2\"")
        .contains("ovf:fileRef=\"" + diskIds.get(0) + "/");
    javax.xml.parsers.DocumentBuilderFactory f = javax.xml.parsers.DocumentBuilderFactory.newInstance();
    f.setNamespaceAware(true);
    f.newDocumentBuilder().parse(new java.io.ByteArrayInputStream(ovf.getBytes(StandardCharsets.UTF_8)));

    assertThat(c.get("/vms/" + UUID.randomUUID()).code()).isEqualTo(404);
    assertThat(c.get("/vms/" + vmId + "/diskattachments/" + UUID.randomUUID()).code()).isEqualTo(404);
    // an attached disk cannot be removed
    assertThat(c.delete("/disks/" + diskIds.get(0)).code()).isEqualTo(409);
  }

  @Test
  void fullThenIncrementalBackupWithGuestWrites() throws Exception {
    start(TestClient.fastConfig(), "web:4M,2M");
    String vm = sb.vmId("web").orElseThrow();
    String d1 = sb.vmDiskIds("web").get(0);
    String d2 = sb.vmDiskIds("web").get(1);
    byte[] a = pattern(K64, 1);
    guestWrite(vm, d1, M, a);

    // full backup
    String b1 = startBackup(vm, null, d1, d2);
    Resp conflict = c.post("/vms/" + vm + "/backups", backupBody(null, null, d1));
    assertThat(conflict.code()).isEqualTo(409);
    assertThat(conflict.json().get("detail").asText()).contains("The VM is during a backup operation");
    List<String> phases = awaitPhase(vm, b1, "ready");
    assertThat(phases).endsWith("ready");
    assertThat(phases).isSubsetOf("initializing", "starting", "ready");
    JsonNode backup = c.get("/vms/" + vm + "/backups/" + b1).json();
    String cp1 = backup.get("to_checkpoint_id").asText();
    assertThat(backup.has("from_checkpoint_id")).isFalse();
    assertThat(backup.get("vm").get("id").asText()).isEqualTo(vm);
    JsonNode disks = c.get("/vms/" + vm + "/backups/" + b1 + "/disks").json().get("disk");
    assertThat(disks).hasSize(2);
    for (JsonNode d : disks) {
      assertThat(d.get("backup_mode").asText()).isEqualTo("full");
    }
    // the disks are locked for other operations while the backup runs
    assertThat(c.get("/disks/" + d1).json().get("status").asText()).isEqualTo("locked");

    // the guest goes on writing: the backup still shows the disk as it was when it started
    byte[] b = pattern(4096, 2);
    guestWrite(vm, d1, 0, b);

    JsonNode t = backupTransfer(b1, d1);
    assertThat(t.get("backup").get("id").asText()).isEqualTo(b1);
    assertThat(t.get("format").asText()).isEqualTo("raw");
    Resp zero = extents(t, "zero");
    assertThat(zero.code()).isEqualTo(200);
    assertThat(flagged(zero.json(), "zero")).hasSize(2);
    List<long[]> data = new ArrayList<>();
    long pos = 0;
    for (JsonNode e : zero.json()) {
      if (!e.get("zero").asBoolean()) {
        data.add(new long[] {e.get("start").asLong(), e.get("start").asLong() + e.get("length").asLong()});
      }
      pos += e.get("length").asLong();
    }
    assertThat(pos).isEqualTo(4 * M);
    assertThat(data).containsExactly(new long[] {M, M + K64});
    assertThat(read(t, M, K64)).isEqualTo(a);
    assertThat(read(t, 0, 4096)).isEqualTo(new byte[4096]);
    Resp noDirty = extents(t, "dirty");
    assertThat(noDirty.code()).isEqualTo(404);
    assertThat(noDirty.body()).contains("Ticket does not support dirty extents");
    // finalize waits for the transfers
    Resp busy = c.post("/vms/" + vm + "/backups/" + b1 + "/finalize", "{}");
    assertThat(busy.code()).isEqualTo(409);
    assertThat(busy.json().get("detail").asText()).contains("active image transfer");
    finishTransfer(t);
    finalizeBackup(vm, b1);
    assertThat(c.get("/vms/" + vm + "/backups/" + b1 + "/disks").json().get("disk").get(0)
        .has("backup_mode")).isFalse();
    assertThat(c.get("/disks/" + d1).json().get("status").asText()).isEqualTo("ok");
    JsonNode cps = c.get("/vms/" + vm + "/checkpoints").json();
    assertThat(ids(cps, "checkpoint")).containsExactly(cp1);
    JsonNode cp = c.get("/vms/" + vm + "/checkpoints/" + cp1).json();
    assertThat(cp.get("state").asText()).isEqualTo("created");
    assertThat(cp.has("parent_id")).isFalse();
    assertThat(ids(c.get("/vms/" + vm + "/checkpoints/" + cp1 + "/disks").json(), "disk"))
        .containsExactly(d1, d2);
    // a second finalize is refused
    assertThat(c.post("/vms/" + vm + "/backups/" + b1 + "/finalize", "{}").code()).isEqualTo(400);

    // more guest writes: one 64 KiB block, and 10 bytes inside another block
    byte[] cdata = pattern(K64, 3);
    guestWrite(vm, d1, 3L * M, cdata);
    guestWrite(vm, d1, 2L * M + 100, "0123456789".getBytes(StandardCharsets.US_ASCII));

    // incremental from the first checkpoint
    String b2 = startBackup(vm, cp1, d1, d2);
    awaitPhase(vm, b2, "ready");
    JsonNode bk2 = c.get("/vms/" + vm + "/backups/" + b2).json();
    assertThat(bk2.get("from_checkpoint_id").asText()).isEqualTo(cp1);
    String cp2 = bk2.get("to_checkpoint_id").asText();
    assertThat(cp2).isNotEqualTo(cp1);
    for (JsonNode d : c.get("/vms/" + vm + "/backups/" + b2 + "/disks").json().get("disk")) {
      assertThat(d.get("backup_mode").asText()).isEqualTo("incremental");
    }
    JsonNode t2 = backupTransfer(b2, d1);
    Resp dirty = extents(t2, "dirty");
    assertThat(dirty.code()).isEqualTo(200);
    assertThat(end(dirty.json())).isEqualTo(4 * M);
    // exactly the blocks written since the checkpoint: the write during the first backup,
    // the block holding the 10 bytes, and the 64 KiB block
    assertThat(flagged(dirty.json(), "dirty")).containsExactly(
        new long[] {0, K64}, new long[] {2L * M, 2L * M + K64}, new long[] {3L * M, 3L * M + K64});
    for (JsonNode e : dirty.json()) {
      boolean dataInside = e.get("start").asLong() < 3L * M + K64
          && e.get("start").asLong() + e.get("length").asLong() > 3L * M;
      if (dataInside) {
        assertThat(e.get("zero").asBoolean()).isFalse();
      }
    }
    assertThat(read(t2, 3L * M, K64)).isEqualTo(cdata);
    assertThat(read(t2, 0, 4096)).isEqualTo(b);
    byte[] block = read(t2, 2L * M, K64);
    assertThat(Arrays.copyOfRange(block, 100, 110)).isEqualTo("0123456789".getBytes(StandardCharsets.US_ASCII));
    // the untouched disk has no dirty block
    JsonNode t3 = backupTransfer(b2, d2);
    assertThat(flagged(extents(t3, "dirty").json(), "dirty")).isEmpty();
    finishTransfer(t2);
    finishTransfer(t3);
    finalizeBackup(vm, b2);
    JsonNode chain = c.get("/vms/" + vm + "/checkpoints").json().get("checkpoint");
    assertThat(chain).hasSize(2);
    assertThat(chain.get(1).get("id").asText()).isEqualTo(cp2);
    assertThat(chain.get(1).get("parent_id").asText()).isEqualTo(cp1);

    // deleting the root re-parents the leaf; an incremental from the leaf still works
    assertThat(c.delete("/vms/" + vm + "/checkpoints/" + cp1).code()).isEqualTo(200);
    assertThat(c.get("/vms/" + vm + "/checkpoints/" + cp1).code()).isEqualTo(404);
    assertThat(c.get("/vms/" + vm + "/checkpoints/" + cp2).json().has("parent_id")).isFalse();
    Resp gone = c.post("/vms/" + vm + "/backups", backupBody(null, cp1, d1));
    assertThat(gone.code()).isEqualTo(400);
    assertThat(gone.json().get("detail").asText()).contains("Checkpoint ID " + cp1 + " doesn't exist");
    guestWrite(vm, d1, 0, pattern(10, 4));
    String b3 = startBackup(vm, cp2, d1);
    awaitPhase(vm, b3, "ready");
    JsonNode t4 = backupTransfer(b3, d1);
    assertThat(flagged(extents(t4, "dirty").json(), "dirty")).containsExactly(new long[] {0, K64});
    finishTransfer(t4);
    finalizeBackup(vm, b3);
  }

  @Test
  void rawDisksAreAlwaysFullAndMakeNoCheckpoint() throws Exception {
    start(TestClient.fastConfig(), "db:raw:1M,1M", "web:1M");
    String vm = sb.vmId("db").orElseThrow();
    String d1 = sb.vmDiskIds("db").get(0);
    guestWrite(vm, d1, 0, pattern(K64, 5));
    String b1 = startBackup(vm, null, sb.vmDiskIds("db").toArray(new String[0]));
    awaitPhase(vm, b1, "ready");
    JsonNode backup = c.get("/vms/" + vm + "/backups/" + b1).json();
    assertThat(backup.has("to_checkpoint_id")).isFalse();
    for (JsonNode d : c.get("/vms/" + vm + "/backups/" + b1 + "/disks").json().get("disk")) {
      assertThat(d.get("backup_mode").asText()).isEqualTo("full");
      assertThat(d.get("format").asText()).isEqualTo("raw");
    }
    JsonNode t = backupTransfer(b1, d1);
    assertThat(extents(t, "dirty").code()).isEqualTo(404);
    assertThat(read(t, 0, K64)).isEqualTo(pattern(K64, 5));
    finishTransfer(t);
    finalizeBackup(vm, b1);
    assertThat(c.get("/vms/" + vm + "/checkpoints").json().has("checkpoint")).isFalse();
    // a checkpoint of another VM is unknown to this one
    String web = sb.vmId("web").orElseThrow();
    String wb = startBackup(web, null, sb.vmDiskIds("web").get(0));
    awaitPhase(web, wb, "ready");
    String cp = c.get("/vms/" + web + "/backups/" + wb).json().get("to_checkpoint_id").asText();
    finalizeBackup(web, wb);
    assertThat(c.post("/vms/" + vm + "/backups", backupBody(null, cp, d1)).code()).isEqualTo(400);
  }

  @Test
  void errors() throws Exception {
    start(TestClient.fastConfig(), "web:1M", "off:down:1M");
    String vm = sb.vmId("web").orElseThrow();
    String d1 = sb.vmDiskIds("web").get(0);
    String off = sb.vmId("off").orElseThrow();
    String unknown = UUID.randomUUID().toString();

    assertThat(c.post("/vms/" + unknown + "/backups", backupBody(null, null, d1)).code()).isEqualTo(404);
    assertThat(c.get("/vms/" + vm + "/backups/" + unknown).code()).isEqualTo(404);
    assertThat(c.post("/vms/" + vm + "/backups/" + unknown + "/finalize", "{}").code()).isEqualTo(404);
    assertThat(c.get("/vms/" + vm + "/checkpoints/" + unknown).code()).isEqualTo(404);
    assertThat(c.delete("/vms/" + vm + "/checkpoints/" + unknown).code()).isEqualTo(404);
    Resp noCp = c.post("/vms/" + vm + "/backups", backupBody(null, unknown, d1));
    assertThat(noCp.code()).isEqualTo(400);
    assertThat(noCp.json().get("detail").asText())
        .isEqualTo("[Cannot backup VM. Checkpoint ID " + unknown + " doesn't exist.]");
    assertThat(c.post("/vms/" + vm + "/backups", "{}").code()).isEqualTo(400);
    assertThat(c.post("/vms/" + vm + "/backups", backupBody(null, null, unknown)).code()).isEqualTo(400);
    // a disk of another VM
    assertThat(c.post("/vms/" + vm + "/backups", backupBody(null, null, sb.vmDiskIds("off").get(0)))
        .code()).isEqualTo(409);
    assertThat(c.post("/vms/" + vm + "/backups", backupBody("not-a-uuid", null, d1)).code())
        .isEqualTo(400);

    // a running VM's disk is not handed out outside a backup, nor written by an upload
    assertThat(c.post("/imagetransfers", "{\"disk\":{\"id\":\"" + d1 + "\"},\"direction\":\"download\"}")
        .code()).isEqualTo(409);
    assertThat(c.post("/imagetransfers", "{\"disk\":{\"id\":\"" + d1 + "\"},\"direction\":\"upload\"}")
        .code()).isEqualTo(409);

    String b = startBackup(vm, null, d1);
    Resp again = c.post("/vms/" + vm + "/backups", backupBody(b, null, d1));
    assertThat(again.code()).isIn(400, 409);
    awaitPhase(vm, b, "ready");
    String cp = c.get("/vms/" + vm + "/backups/" + b).json().get("to_checkpoint_id").asText();
    assertThat(c.delete("/vms/" + vm + "/checkpoints/" + cp).code()).isEqualTo(409);
    assertThat(c.post("/imagetransfers", "{\"disk\":{\"id\":\"" + d1 + "\"},\"backup\":{\"id\":\"" + b
        + "\"},\"direction\":\"upload\"}").code()).isEqualTo(400);
    assertThat(c.post("/imagetransfers", "{\"disk\":{\"id\":\"" + d1 + "\"},\"backup\":{\"id\":\"" + b
        + "\"},\"direction\":\"download\",\"format\":\"cow\"}").code()).isEqualTo(400);
    assertThat(c.post("/imagetransfers", "{\"disk\":{\"id\":\"" + d1 + "\"},\"backup\":{\"id\":\""
        + unknown + "\"},\"direction\":\"download\"}").code()).isEqualTo(404);
    finalizeBackup(vm, b);
    // an id already used
    assertThat(c.post("/vms/" + vm + "/backups", backupBody(b, null, d1)).code()).isEqualTo(400);

    // guest writes
    Resp down = guestWrite(off, sb.vmDiskIds("off").get(0), 0, new byte[512], sb.username(), sb.password());
    assertThat(down.code()).isEqualTo(409);
    assertThat(guestWrite(vm, d1, 0, new byte[512], sb.username(), "wrong").code()).isEqualTo(401);
    assertThat(guestWrite(vm, d1, M - 100, new byte[512], sb.username(), sb.password()).code())
        .isEqualTo(416);
    assertThat(guestWrite(vm, unknown, 0, new byte[512], sb.username(), sb.password()).code())
        .isEqualTo(404);
  }

  @Test
  void coldBackupOfAVmThatIsDown() throws Exception {
    start(TestClient.fastConfig(), "off:down:1M");
    String vm = sb.vmId("off").orElseThrow();
    String d = sb.vmDiskIds("off").get(0);
    String b = startBackup(vm, null, d);
    List<String> phases = awaitPhase(vm, b, "ready");
    assertThat(phases).doesNotContain("starting");
    assertThat(c.get("/vms/" + vm + "/backups/" + b).json().has("host")).isFalse();
    JsonNode t = backupTransfer(b, d);
    assertThat(flagged(extents(t, "zero").json(), "zero")).containsExactly(new long[] {0, M});
    finishTransfer(t);
    finalizeBackup(vm, b);
    String cp = c.get("/vms/" + vm + "/backups/" + b).json().get("to_checkpoint_id").asText();

    // an upload into the disk of the VM that is down is tracked like a guest write
    JsonNode up = c.createTransfer(d, "upload", "\"format\":\"raw\"");
    Resp put = c.call(new Request.Builder().url(up.get("transfer_url").asText())
        .header("Content-Range", "bytes " + (K64 + 10) + "-" + (K64 + 19) + "/*")
        .put(RequestBody.create(pattern(10, 6), MediaType.get("application/octet-stream"))));
    assertThat(put.code()).isEqualTo(200);
    finishTransfer(up);
    TestClient.await(() -> "ok".equals(sb.diskStatus(d).orElse(null)), T);
    String b2 = startBackup(vm, cp, d);
    awaitPhase(vm, b2, "ready");
    JsonNode t2 = backupTransfer(b2, d);
    assertThat(flagged(extents(t2, "dirty").json(), "dirty")).containsExactly(new long[] {K64, 2 * K64});
    assertThat(Arrays.copyOfRange(read(t2, K64, 64), 10, 20)).isEqualTo(pattern(10, 6));
    finishTransfer(t2);
    finalizeBackup(vm, b2);
  }

  @Test
  void finalizeBeforeReadyEndsFailedWithoutCheckpoint() throws Exception {
    start(TestClient.fastConfig().withTick(Duration.ofMillis(2000)), "web:1M");
    String vm = sb.vmId("web").orElseThrow();
    String b = startBackup(vm, null, sb.vmDiskIds("web").get(0));
    Resp r = c.post("/vms/" + vm + "/backups/" + b + "/finalize", "{}");
    assertThat(r.code()).isEqualTo(400);
    assertThat(r.json().get("detail").asText()).contains("premature backup stop was initiated");
    List<String> phases = awaitPhase(vm, b, "failed");
    assertThat(phases).doesNotContain("ready", "succeeded");
    assertThat(sb.backupPhase(b)).contains("failed");
    assertThat(sb.backupPhase(UUID.randomUUID().toString())).isEmpty();
    assertThat(c.get("/vms/" + vm + "/backups/" + b).json().has("to_checkpoint_id")).isFalse();
    assertThat(c.get("/vms/" + vm + "/checkpoints").json().has("checkpoint")).isFalse();
    assertThat(sb.diskStatus(sb.vmDiskIds("web").get(0))).contains("ok");
  }

  @Test
  void faultsReachTheBackupApi() throws Exception {
    start(TestClient.fastConfig(), "web:1M");
    FaultSpec.parse("status:code=503:on=backup,seed=1").install(sb);
    String vm = sb.vmId("web").orElseThrow();
    assertThat(c.get("/vms").code()).isEqualTo(200);
    assertThat(c.get("/vms/" + vm + "/diskattachments").code()).isEqualTo(200);
    assertThat(c.get("/vms/" + vm + "/backups").code()).isEqualTo(503);
    assertThat(c.post("/vms/" + vm + "/backups", backupBody(null, null, sb.vmDiskIds("web").get(0)))
        .code()).isEqualTo(503);
    assertThat(c.get("/vms/" + vm + "/checkpoints").code()).isEqualTo(503);
  }

  @Test
  void vmSpecs() {
    VmSpec v = VmSpec.parse("web:10G,512M");
    assertThat(v.up()).isTrue();
    assertThat(v.disks()).containsExactly(new VmSpec.DiskSpec("cow", 10L << 30),
        new VmSpec.DiskSpec("cow", 512L << 20));
    VmSpec r = VmSpec.parse("db:raw:down:1G");
    assertThat(r.up()).isFalse();
    assertThat(r.disks()).containsExactly(new VmSpec.DiskSpec("raw", 1L << 30));
    for (String bad : List.of("web", "web:", "web:0", "web:1G,", "web:big:1G", ":1G", "web:1000")) {
      org.assertj.core.api.Assertions.assertThatThrownBy(() -> VmSpec.parse(bad))
          .as(bad).isInstanceOf(IllegalArgumentException.class);
    }
  }

  private static Object[] command(Path home, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Map<String, String> env = Map.of("HOME", home.toString(), "XDG_CONFIG_HOME", home.toString());
    int code;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      code = Main.run(o, e, env, args);
    }
    return new Object[] {code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8)};
  }

  @Test
  void commandCreatesVmsWithStableIds(@TempDir Path home) {
    String data = home.resolve("d").toString();
    Object[] r = command(home, "sandbox", "--plain-http", "--data-dir", data, "--vm", "web:1M,2M",
        "--vm", "db:raw:down:1M");
    assertThat(r[0]).isEqualTo(0);
    assertThat((String) r[1]).contains("DISKFERRY_ENGINE_URL=http://127.0.0.1:");
    String err = (String) r[2];
    assertThat(err.lines().toList()).hasSize(2);
    assertThat(err).matches("(?s)diskferry: sandbox VM web \\(up\\) [0-9a-f-]{36}: web-disk1=[0-9a-f-]{36}"
        + " \\(qcow2\\) web-disk2=[0-9a-f-]{36} \\(qcow2\\)\n"
        + "diskferry: sandbox VM db \\(down\\) [0-9a-f-]{36}: db-disk1=[0-9a-f-]{36} \\(raw\\)\n");
    // the same names on the same data directory: the same VMs and disks
    assertThat(command(home, "sandbox", "--plain-http", "--data-dir", data, "--vm", "web:1M,2M",
        "--vm", "db:raw:down:1M")[2]).isEqualTo(err);
    // a disk of another size is refused, not replaced
    Object[] changed = command(home, "sandbox", "--plain-http", "--data-dir", data, "--vm", "web:1M,4M");
    assertThat(changed[0]).isEqualTo(2);
    assertThat(changed[2]).isEqualTo("diskferry: error: --vm web: disk web-disk2 already exists in the"
        + " data directory with another size or format\n");
    Object[] bad = command(home, "sandbox", "--plain-http", "--vm", "web:raw:fast:1M");
    assertThat(bad[0]).isEqualTo(2);
    assertThat(bad[1]).isEqualTo("");
    assertThat(bad[2]).isEqualTo("diskferry: error: --vm 'web:raw:fast:1M': unknown word 'fast' (raw or"
        + " down), expected NAME[:raw][:down]:SIZE[,SIZE...]\n");
    Object[] twice = command(home, "sandbox", "--plain-http", "--vm", "a:1M", "--vm", "a:2M");
    assertThat(twice[0]).isEqualTo(2);
    assertThat(twice[2]).isEqualTo("diskferry: error: --vm: two VMs are named a\n");
  }
}
