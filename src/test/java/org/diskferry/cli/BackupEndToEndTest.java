package org.diskferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.diskferry.http.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * {@code diskferry backup} end to end against the real imageio daemon behind mini-engine.py
 * (real qemu dirty bitmaps): a full backup, guest writes, incrementals, and the errors users
 * meet. Every backup's top file is compared with the disk as the guest left it at that point.
 */
class BackupEndToEndTest {
  private static final int MIB = 1 << 20;
  private static BackupOvirtLocal ovirt;

  @BeforeAll
  static void start() throws Exception {
    BackupOvirtLocal.assumeAvailable();
    BackupOvirtLocal.assumeQemuImg();
    ovirt =
        BackupOvirtLocal.start(
            "backup", "--step-delay", "0.1", "--vm", "chain:8M,4M", "--vm", "busy:4M",
            "--vm", "fallback:4M", "--vm", "sig:160M", "--vm", "k9:128M");
  }

  @AfterAll
  static void stop() {
    if (ovirt != null) {
      ovirt.close();
    }
  }

  record Run(int exit, String out, String err) {
    @Override
    public String toString() {
      return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }

  private static Run diskferry(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      code = Main.run(o, e, ovirt.env, args);
    }
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private static JsonNode json(String text) throws IOException {
    return Json.mapper().readTree(text);
  }

  private static String vmId(String name) throws IOException {
    String[] r = ovirt.api("GET", "/vms?search=name%3D" + name, null);
    return json(r[1]).get("vm").get(0).get("id").asText();
  }

  private static List<String> diskIds(String vmId) throws IOException {
    List<String> ids = new ArrayList<>();
    for (JsonNode a : json(ovirt.api("GET", "/vms/" + vmId + "/diskattachments", null)[1])
        .get("disk_attachment")) {
      ids.add(a.get("disk").get("id").asText());
    }
    return ids;
  }

  /** The guest's disks as they should be: written through the guest, kept here. */
  private static final class Guest {
    final String vmId;
    final List<String> disks;
    final List<byte[]> content = new ArrayList<>();
    final Random rnd = new Random(42);

    Guest(String vmId, List<String> disks, int... sizes) {
      this.vmId = vmId;
      this.disks = disks;
      for (int s : sizes) {
        content.add(new byte[s]);
      }
    }

    void write(int disk, int offset, int length) throws IOException {
      byte[] b = new byte[length];
      rnd.nextBytes(b);
      put(disk, offset, b);
    }

    void zero(int disk, int offset, int length) throws IOException {
      put(disk, offset, new byte[length]);
    }

    private void put(int disk, int offset, byte[] b) throws IOException {
      ovirt.guestWrite(vmId, disks.get(disk), offset, b);
      System.arraycopy(b, 0, content.get(disk), offset, b.length);
    }

    /** Snapshots what each disk holds now as raw files named {@code NAME-DISK.raw}. */
    List<Path> save(String name) throws IOException {
      List<Path> out = new ArrayList<>();
      for (int i = 0; i < disks.size(); i++) {
        Path p = ovirt.dir.resolve(name + "-" + i + ".raw");
        Files.write(p, content.get(i));
        out.add(p);
      }
      return out;
    }
  }

  private static String qemuImg(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("qemu-img"));
    cmd.addAll(Arrays.asList(args));
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as("qemu-img %s: %s", cmd, out).isZero();
    return out;
  }

  /** Checks one backup's files against the disks as they were, and returns its manifest. */
  private static JsonNode checkBackup(JsonNode result, List<Path> expected, int depth)
      throws Exception {
    Path dir = Path.of(result.get("dir").asText());
    JsonNode m = json(Files.readString(dir.resolve("backup.json")));
    assertThat(m.get("state").asText()).isEqualTo("succeeded");
    assertThat(m.get("disks")).hasSize(expected.size());
    for (int i = 0; i < expected.size(); i++) {
      Path top = dir.resolve(m.get("disks").get(i).get("file").asText());
      qemuImg("check", "-f", "qcow2", top.toString());
      String chain = qemuImg("info", "--backing-chain", top.toString());
      assertThat(chain.split("\nimage: ", -1)).hasSize(depth);
      qemuImg("compare", "-f", "raw", "-F", "qcow2", expected.get(i).toString(), top.toString());
    }
    return m;
  }

  @Test
  void fullThenTwoIncrementalsEachEqualTheDiskAtItsPointInTime() throws Exception {
    String vm = vmId("chain");
    Guest g = new Guest(vm, diskIds(vm), 8 * MIB, 4 * MIB);
    Path repo = ovirt.dir.resolve("repo-chain");
    g.write(0, 0, 3 * MIB);
    g.write(1, MIB + 512, 100_000);
    List<Path> t0 = g.save("t0");

    Run full = diskferry("-o", "json", "backup", "chain", "--repo", repo.toString());
    assertThat(full.exit()).as(full.toString()).isZero();
    JsonNode r0 = json(full.out()).get("results").get(0);
    assertThat(r0.get("status").asText()).isEqualTo("succeeded");
    assertThat(r0.get("mode").asText()).isEqualTo("full");
    JsonNode m0 = checkBackup(r0, t0, 1);
    assertThat(m0.get("to_checkpoint").asText()).isNotBlank();

    // Unaligned data, a whole cluster run and a partial cluster that become zeros.
    g.write(0, 5 * MIB + 1000, 70_000);
    g.zero(0, MIB, 256 * 1024);
    g.zero(0, 2 * MIB + 4096, 512);
    g.write(1, 4 * MIB - 65536, 65536);
    List<Path> t1 = g.save("t1");
    Run inc1 = diskferry("-o", "json", "backup", "chain", "--repo", repo.toString());
    assertThat(inc1.exit()).as(inc1.toString()).isZero();
    JsonNode r1 = json(inc1.out()).get("results").get(0);
    assertThat(r1.get("mode").asText()).isEqualTo("incremental");
    JsonNode m1 = checkBackup(r1, t1, 2);
    assertThat(m1.get("from_checkpoint").asText()).isEqualTo(m0.get("to_checkpoint").asText());
    assertThat(m1.get("base").asText())
        .isEqualTo(Path.of(r0.get("dir").asText()).getFileName().toString());
    // Only the changed clusters moved: far less than the disks.
    assertThat(r1.get("bytes").asLong()).isLessThan(MIB);

    g.write(0, 7 * MIB, MIB);
    g.write(1, 0, 10);
    List<Path> t2 = g.save("t2");
    Run inc2 = diskferry("backup", "chain", "--repo", repo.toString());
    assertThat(inc2.exit()).as(inc2.toString()).isZero();
    assertThat(inc2.out()).startsWith("chain: incremental backup ");
    Path vmDir = Path.of(r0.get("dir").asText()).getParent();
    List<Path> folders;
    try (var s = Files.list(vmDir)) {
      folders = s.sorted().toList();
    }
    assertThat(folders).hasSize(3).noneMatch(p -> p.getFileName().toString().startsWith("."));
    JsonNode r2 = Json.mapper().createObjectNode().put("dir", folders.get(2).toString());
    checkBackup(r2, t2, 3);
    // The older points in time are still intact.
    checkBackup(r1, t1, 2);
    checkBackup(r0, t0, 1);
    // The engine holds no running backup of the VM.
    for (JsonNode b : json(ovirt.api("GET", "/vms/" + vm + "/backups", null)[1]).get("backup")) {
      assertThat(b.get("phase").asText()).isEqualTo("succeeded");
    }

    Run list = diskferry("-o", "json", "backup", "list", "chain", "--repo", repo.toString());
    assertThat(list.exit()).as(list.toString()).isZero();
    JsonNode rows = json(list.out()).get("backups");
    assertThat(rows).hasSize(3);
    assertThat(rows.findValuesAsText("mode"))
        .containsExactly("full", "incremental", "incremental");
    assertThat(rows.findValuesAsText("state")).containsOnly("succeeded");

    Run verify = diskferry("backup", "verify", folders.get(2).toString());
    assertThat(verify.exit()).as(verify.toString()).isZero();
    assertThat(verify.out()).contains("the chain of 6 files is whole");
    Path fullFile = Path.of(r0.get("dir").asText(), m0.get("disks").get(0).get("file").asText());
    byte[] saved = Files.readAllBytes(fullFile);
    Files.write(fullFile, Arrays.copyOf(saved, saved.length - 65536));
    Run broken = diskferry("backup", "verify", folders.get(2).toString());
    assertThat(broken.exit()).as(broken.toString()).isEqualTo(1);
    assertThat(broken.err().trim().split("\n")).hasSize(1);
    assertThat(broken.err()).contains("is not whole: 1 problem, the first: " + fullFile
        + ": size " + (saved.length - 65536) + " bytes, the manifest says " + saved.length);
    // A backup whose chain is not whole is not the base of the next one.
    Run notBase = diskferry("-o", "json", "backup", "chain", "--repo", repo.toString(),
        "--mode", "incremental");
    assertThat(notBase.exit()).as(notBase.toString()).isEqualTo(1);
    assertThat(json(notBase.out()).get("results").get(0).get("error").asText())
        .startsWith("cannot take an incremental backup: the last backup");
    Files.write(fullFile, saved);

    // A new full backup with --keep 1 removes the old chain and the checkpoints it created.
    Run fresh = diskferry("-o", "json", "backup", "chain", "--repo", repo.toString(), "--mode",
        "full", "--keep", "1");
    assertThat(fresh.exit()).as(fresh.toString()).isZero();
    JsonNode r3 = json(fresh.out()).get("results").get(0);
    assertThat(r3.get("removed")).hasSize(3);
    try (var s = Files.list(vmDir)) {
      assertThat(s.toList()).containsExactly(Path.of(r3.get("dir").asText()));
    }
    checkBackup(r3, t2, 1);
    String newest = json(Files.readString(Path.of(r3.get("dir").asText(), "backup.json")))
        .get("to_checkpoint").asText();
    JsonNode cps = json(ovirt.api("GET", "/vms/" + vm + "/checkpoints", null)[1]).get("checkpoint");
    List<String> ids = new ArrayList<>();
    cps.forEach(c -> ids.add(c.get("id").asText()));
    assertThat(ids).containsExactly(newest);
  }

  @Test
  void aRefusedCheckpointFallsBackToAFullBackupWithAWarning() throws Exception {
    String vm = vmId("fallback");
    Guest g = new Guest(vm, diskIds(vm), 4 * MIB);
    Path repo = ovirt.dir.resolve("repo-fallback");
    g.write(0, 0, MIB);
    Run full = diskferry("-o", "json", "backup", vm, "--repo", repo.toString());
    assertThat(full.exit()).as(full.toString()).isZero();
    JsonNode m0 = json(Files.readString(
        Path.of(json(full.out()).get("results").get(0).get("dir").asText(), "backup.json")));
    String cp = m0.get("to_checkpoint").asText();
    assertThat(ovirt.api("DELETE", "/vms/" + vm + "/checkpoints/" + cp, null)[0]).isEqualTo("200");
    g.write(0, 2 * MIB, 1000);
    List<Path> t1 = g.save("fallback1");

    Run again = diskferry("-o", "json", "backup", "fallback", "--repo", repo.toString());
    assertThat(again.exit()).as(again.toString()).isZero();
    assertThat(again.err()).contains("refused checkpoint " + cp).contains("taking a full backup");
    JsonNode r = json(again.out()).get("results").get(0);
    assertThat(r.get("mode").asText()).isEqualTo("full");
    checkBackup(r, t1, 1);
  }

  @Test
  void aVmBeingBackedUpElsewhereIsSkippedWithExit5AndTheOthersStillRun() throws Exception {
    String busy = vmId("busy");
    String disk = diskIds(busy).get(0);
    String[] started =
        ovirt.api("POST", "/vms/" + busy + "/backups",
            "{\"disks\":{\"disk\":[{\"id\":\"" + disk + "\"}]}}");
    assertThat(started[0]).isEqualTo("201");
    String other = json(started[1]).get("id").asText();
    Path repo = ovirt.dir.resolve("repo-busy");
    try {
      Run r = diskferry("-o", "json", "backup", "busy", "fallback", "--repo", repo.toString());
      assertThat(r.exit()).as(r.toString()).isEqualTo(5);
      JsonNode results = json(r.out()).get("results");
      assertThat(results.get(0).get("status").asText()).isEqualTo("skipped");
      assertThat(results.get(0).get("error").asText()).contains("being backed up elsewhere");
      assertThat(results.get(1).get("status").asText()).isEqualTo("succeeded");
      // Nothing of the skipped VM is left in the repository.
      try (var s = Files.list(repo)) {
        assertThat(s.map(p -> p.getFileName().toString()).toList())
            .noneMatch(n -> n.contains(busy) && hasFiles(repo.resolve(n)));
      }
    } finally {
      ovirt.api("POST", "/vms/" + busy + "/backups/" + other + "/finalize", "{}");
    }
  }

  private static boolean hasFiles(Path dir) {
    try (var s = Files.list(dir)) {
      return s.findAny().isPresent();
    } catch (IOException e) {
      return false;
    }
  }

  @Test
  void unknownVmIsExit4AndAnUnwritableRepositoryExit1BeforeTheEngineIsAsked() throws Exception {
    Path repo = ovirt.dir.resolve("repo-errors");
    Run unknown = diskferry("backup", "no-such-vm", "--repo", repo.toString());
    assertThat(unknown.exit()).as(unknown.toString()).isEqualTo(4);
    assertThat(unknown.err().trim()).isEqualTo("diskferry: error: VM 'no-such-vm' not found");

    Run glance = diskferry("backup", "chain", "--repo", repo.toString(), "--cloud", "prod");
    assertThat(glance.exit()).as(glance.toString()).isEqualTo(2);
    assertThat(glance.err().trim()).isEqualTo(
        "diskferry: error: backup works with oVirt only; a cloud (--cloud or OS_CLOUD) selects"
            + " Glance");

    Path file = ovirt.dir.resolve("a-file");
    Files.writeString(file, "x");
    int before = json(ovirt.api("GET", "/vms/" + vmId("chain") + "/backups", null)[1])
        .path("backup").size();
    Run unwritable = diskferry("backup", "chain", "--repo", file.resolve("repo").toString());
    assertThat(unwritable.exit()).as(unwritable.toString()).isEqualTo(1);
    assertThat(unwritable.err().trim().split("\n")).hasSize(1);
    assertThat(unwritable.err()).startsWith("diskferry: error: the backup repository ")
        .contains("is not writable");
    assertThat(json(ovirt.api("GET", "/vms/" + vmId("chain") + "/backups", null)[1])
        .path("backup").size()).isEqualTo(before);
  }

  @Test
  void sigtermWhileADiskMovesFinalizesTheEngineBackupAndLeavesNoPartialBackup() throws Exception {
    String vm = vmId("sig");
    Guest g = new Guest(vm, diskIds(vm), 160 * MIB);
    for (int i = 0; i < 128; i += 8) {
      g.write(0, i * MIB, 8 * MIB);
    }
    Path repo = ovirt.dir.resolve("repo-sig");
    Path err = ovirt.dir.resolve("sig.err");
    Process p =
        CliProcess.start(ovirt.env, err, "backup", "sig", "--repo", repo.toString(),
            "--workers", "1", "--buffer-size", "64K");
    try {
      CliProcess.awaitOutput(err, "downloading");
      CliProcess.signal(p, "TERM");
      assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
      String stderr = Files.readString(err);
      assertThat(p.exitValue()).as(stderr).isEqualTo(143);
      assertThat(stderr).contains("diskferry: error: interrupted by SIGTERM");
    } finally {
      p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    // The engine backup has ended, no transfer is left open, nothing is left in the repository.
    JsonNode backups = json(ovirt.api("GET", "/vms/" + vm + "/backups", null)[1]).get("backup");
    assertThat(backups).hasSize(1);
    assertThat(backups.get(0).get("phase").asText()).isIn("succeeded", "failed");
    for (JsonNode t : json(ovirt.api("GET", "/imagetransfers", null)[1]).path("image_transfer")) {
      assertThat(t.get("phase").asText()).startsWith("finished");
    }
    try (var s = Files.walk(repo)) {
      assertThat(s.filter(Files::isRegularFile).toList()).isEmpty();
    }
    // The next run is a full backup that succeeds.
    Run again = diskferry("backup", "sig", "--repo", repo.toString());
    assertThat(again.exit()).as(again.toString()).isZero();
    assertThat(again.out()).startsWith("sig: full backup ");
  }

  @Test
  void afterKillDashNineTheNextRunEndsTheLeftBackupAndTakesANewOne() throws Exception {
    String vm = vmId("k9");
    Guest g = new Guest(vm, diskIds(vm), 128 * MIB);
    for (int i = 0; i < 96; i += 8) {
      g.write(0, i * MIB, 8 * MIB);
    }
    List<Path> t0 = g.save("k9");
    Path repo = ovirt.dir.resolve("repo-k9");
    Path err = ovirt.dir.resolve("k9.err");
    Process p =
        CliProcess.start(ovirt.env, err, "backup", "k9", "--repo", repo.toString(),
            "--workers", "1", "--buffer-size", "64K");
    try {
      CliProcess.awaitOutput(err, "downloading");
    } finally {
      p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    JsonNode left = json(ovirt.api("GET", "/vms/" + vm + "/backups", null)[1]).get("backup");
    assertThat(left).hasSize(1);
    String leftId = left.get(0).get("id").asText();
    assertThat(left.get(0).get("phase").asText()).isEqualTo("ready");

    Run again = diskferry("-o", "json", "backup", "k9", "--repo", repo.toString());
    assertThat(again.exit()).as(again.toString()).isZero();
    assertThat(again.err()).contains("backup " + leftId + " was left by a run that was stopped");
    JsonNode r = json(again.out()).get("results").get(0);
    assertThat(r.get("mode").asText()).isEqualTo("full");
    checkBackup(r, t0, 1);
    String leftPhase = json(ovirt.api("GET", "/vms/" + vm + "/backups/" + leftId, null)[1])
        .get("phase").asText();
    assertThat(leftPhase).isIn("succeeded", "failed");
    Path vmDir = Path.of(r.get("dir").asText()).getParent();
    try (var s = Files.list(vmDir)) {
      assertThat(s.toList()).containsExactly(Path.of(r.get("dir").asText()));
    }
  }
}
