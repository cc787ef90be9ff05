package org.diskferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.diskferry.cli.SandboxFixture.Result;
import org.diskferry.http.Json;
import org.diskferry.ovirt.EngineClient;
import org.diskferry.sandbox.FaultHook;
import org.diskferry.sandbox.FaultSpec;
import org.diskferry.transfer.Direction;
import org.diskferry.transfer.Journal;
import org.diskferry.transfer.JournalStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an engine that fails (5xx answers, a transfer it ends on its own) and an unusable local
 * state directory leave behind: never a disk that neither {@code status} nor {@code cancel} sees.
 */
class EngineFaultsEndToEndTest {

  @TempDir static Path dir;
  static SandboxFixture fx;

  @BeforeAll
  static void start() throws IOException {
    fx = new SandboxFixture(dir);
  }

  @AfterAll
  static void stop() {
    fx.close();
  }

  @AfterEach
  void cleanUp() throws IOException {
    fx.sandbox.setFaultHook(null);
    for (Journal j : journals().list()) {
      journals().delete(j.transferId());
    }
  }

  static JournalStore journals() {
    return fx.journals();
  }

  static EngineClient engine() {
    return fx.engine();
  }

  /** The error lines on stderr. */
  static List<String> errorLines(Result r) {
    return r.err().lines().filter(l -> l.startsWith("diskferry: error:")).toList();
  }

  static boolean diskRequest(FaultHook.Request r) {
    return r.path().matches("/ovirt-engine/api/disks/[0-9a-f-]{36}");
  }

  @Test
  void anUnwritableStateDirectoryIsRefusedBeforeADiskExists() throws IOException {
    Path src = SandboxFixture.image(dir.resolve("nostate.img"), 1 << 20, 1, true);
    Path state = Files.createDirectories(dir.resolve("blocked-state"));
    Files.writeString(state.resolve("diskferry"), "a file where the journal directory goes\n");
    Map<String, String> env = fx.env();
    env.put("XDG_STATE_HOME", state.toString());
    Result r = fx.run(env, "upload", src.toString(), "--name", "nostate");
    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertThat(errorLines(r))
        .containsExactly(
            "diskferry: error: cannot save journals in " + state.resolve("diskferry")
                + " (set by $XDG_STATE_HOME, default ~/.local/state): a file is in the way (not a"
                + " directory); nothing was started");
    try (EngineClient engine = engine()) {
      assertThat(engine.disksByName("nostate")).isEmpty();
      assertThat(engine.transfers()).noneMatch(t -> t.phase().wire().equals("transferring"));
    }
    Result down = fx.run(env, "download", "nostate-any", dir.resolve("nostate.out").toString());
    assertThat(down.exit()).as(down.toString()).isIn(1, 4);
    assertThat(dir.resolve("nostate.out.part")).doesNotExist();
  }

  @Test
  void oneEngine5xxWhileWaitingForTheDiskIsTriedAgain() throws IOException {
    Path src = SandboxFixture.image(dir.resolve("one5xx.img"), 2 << 20, 2, true);
    AtomicInteger faulted = new AtomicInteger();
    fx.sandbox.setFaultHook(
        r -> r.method().equals("GET") && diskRequest(r) && faulted.getAndIncrement() == 0
            ? FaultHook.Action.respond(503, "engine restarting")
            : null);
    Result r =
        fx.run("-o", "json", "upload", src.toString(), "--name", "one5xx", "--retry-delay", "5");
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(faulted.get()).isGreaterThan(1);
    assertThat(r.err()).contains("\"event\":\"retry\"");
    String disk = Json.mapper().readTree(r.out()).get("disk_id").asText();
    assertThat(fx.sandbox.diskStatus(disk)).contains("ok");
    assertThat(journals().list()).isEmpty();
  }

  @Test
  void aDiskThatCannotBeRemovedKeepsItsJournalSoThatStatusShowsItAndCancelRemovesIt()
      throws IOException {
    Path src = SandboxFixture.image(dir.resolve("left.img"), 2 << 20, 3, true);
    AtomicBoolean down = new AtomicBoolean(true);
    fx.sandbox.setFaultHook(
        r -> down.get() && diskRequest(r) && !r.method().equals("POST")
            ? FaultHook.Action.respond(500, "engine failing")
            : null);
    Result r =
        fx.run("upload", src.toString(), "--name", "left", "--retries", "1", "--retry-delay", "5");
    down.set(false);
    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    List<Journal> left = journals().list();
    assertThat(left).hasSize(1);
    Journal j = left.get(0);
    assertThat(j.pending()).isTrue();
    assertThat(errorLines(r))
        .containsExactly(
            "diskferry: error: engine error: cannot get disk " + j.diskId() + " (HTTP 500); disk "
                + j.diskId() + " is left on the engine; 'diskferry cancel disk-" + j.diskId()
                + "' cleans it up");
    assertThat(fx.sandbox.diskStatus(j.diskId())).isPresent();

    Result status = fx.run("-o", "json", "status");
    assertThat(status.exit()).as(status.toString()).isZero();
    JsonNode row = null;
    for (JsonNode n : Json.mapper().readTree(status.out())) {
      if (n.get("id").asText().equals(j.transferId())) {
        row = n;
      }
    }
    assertThat(row).as(status.out()).isNotNull();
    assertThat(row.get("disk_id").asText()).isEqualTo(j.diskId());
    assertThat(row.get("phase").asText()).isEqualTo("no_transfer");

    Result cancel = fx.run("cancel", j.transferId());
    assertThat(cancel.exit()).as(cancel.toString()).isZero();
    assertThat(fx.sandbox.diskStatus(j.diskId())).isEmpty();
    assertThat(journals().list()).isEmpty();
  }

  /** Uploads a disk to download from; returns its id. */
  static String disk(Path src, String name) throws IOException {
    Result up = fx.run("-o", "json", "upload", src.toString(), "--name", name);
    assertThat(up.exit()).as(up.toString()).isZero();
    return Json.mapper().readTree(up.out()).get("disk_id").asText();
  }

  @Test
  void aDownloadWhoseTransferTheEngineCancelsContinuesInANewTransferInTheSameRun()
      throws IOException {
    Path src = SandboxFixture.image(dir.resolve("lost.img"), 8 << 20, 4, true);
    String disk = disk(src, "lost");
    Path target = dir.resolve("lost-back.img");
    FaultSpec.Injector faults = FaultSpec.parse("lose-ticket:after=6").install(fx.sandbox);
    Result r =
        fx.run("-o", "json", "download", disk, target.toString(), "--workers", "2",
            "--range-size", "1M", "--buffer-size", "256K", "--retry-delay", "5");
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(faults.injected(FaultSpec.Kind.LOSE_TICKET)).isBetween(1L, 3L);
    assertThat(r.err()).contains("continuing in a new transfer on disk " + disk);
    assertThat(Files.mismatch(src, target)).isEqualTo(-1L);
    assertThat(dir.resolve("lost-back.img.part")).doesNotExist();
    assertThat(journals().list()).isEmpty();
    assertThat(fx.sandbox.diskStatus(disk)).contains("ok");
    String last = Json.mapper().readTree(r.out()).get("transfer_id").asText();
    try (EngineClient engine = engine()) {
      assertThat(engine.transfers())
          .filteredOn(t -> disk.equals(t.diskId()))
          .allSatisfy(t -> assertThat(t.phase().isFinished()).isTrue())
          .anySatisfy(t -> assertThat(t.phase().wire()).isEqualTo("finished_failure"))
          .anySatisfy(t -> assertThat(t.id()).isEqualTo(last));
    }
  }

  @Test
  void newTransfersAreBoundedAndTheLastOneIsJournaledForResume() throws IOException {
    Path src = SandboxFixture.image(dir.resolve("lost2.img"), 16 << 20, 5, true);
    String disk = disk(src, "lost2");
    Path target = dir.resolve("lost2-back.img");
    FaultSpec.Injector faults = FaultSpec.parse("lose-ticket:after=3").install(fx.sandbox);
    Result r =
        fx.run("download", disk, target.toString(), "--workers", "1", "--range-size", "1M",
            "--buffer-size", "256K", "--retry-delay", "5");
    fx.sandbox.setFaultHook(null);
    assertThat(r.exit()).as(r.toString()).isEqualTo(75);
    // The first transfer and the three that continued it, each ended by the engine.
    assertThat(faults.injected(FaultSpec.Kind.LOSE_TICKET)).as(r.toString()).isEqualTo(4);
    List<Journal> left = journals().list();
    assertThat(left).hasSize(1);
    Journal j = left.get(0);
    assertThat(j.bytesDone()).isGreaterThan(0).isLessThan(16L << 20);
    assertThat(errorLines(r)).hasSize(1);
    assertThat(errorLines(r).get(0))
        .startsWith("diskferry: error: transfer " + j.transferId() + ": ")
        .endsWith("'diskferry resume " + j.transferId() + "' continues it");
    assertThat(dir.resolve("lost2-back.img.part")).exists();
    Result resumed = fx.run("resume", j.transferId());
    assertThat(resumed.exit()).as(resumed.toString()).isZero();
    assertThat(Files.mismatch(src, target)).isEqualTo(-1L);
    assertThat(journals().list()).isEmpty();
  }

  static Journal journal(String id, String diskId, Direction direction, String endpoint, Path file)
      throws IOException {
    Journal j =
        new Journal(
            Journal.VERSION, id, diskId, direction, endpoint, file.toString(), 0, 0, 1 << 20,
            false, false, List.of(), System.currentTimeMillis());
    journals().save(j);
    return j;
  }

  @Test
  void statusShowsLocalJournalsUncheckedWhenTheEngineIsUnreachable() throws IOException {
    Journal j =
        journal("7a1c0f52-1111-4222-8333-944455556666", "d0d0d0d0-1111-4222-8333-944455556666",
            Direction.DOWNLOAD, fx.sandbox.engineUrl(), dir.resolve("unreach.img"));
    int port;
    try (java.net.ServerSocket s =
        new java.net.ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
      port = s.getLocalPort();
    }
    Map<String, String> env = fx.env();
    env.put("DISKFERRY_ENGINE_URL", "https://127.0.0.1:" + port);
    Result r = fx.run(env, "status");
    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertThat(r.out()).contains(j.transferId()).contains("not_checked").contains("unknown");
    assertThat(errorLines(r)).hasSize(1);
    assertThat(errorLines(r).get(0)).startsWith("diskferry: error: cannot reach the engine at");
    Result json = fx.run(env, "-o", "json", "status", j.transferId());
    assertThat(json.exit()).as(json.toString()).isEqualTo(1);
    JsonNode row = Json.mapper().readTree(json.out());
    assertThat(row.get("phase").asText()).isEqualTo("not_checked");
    assertThat(row.path("resumable").isMissingNode() || row.get("resumable").isNull()).isTrue();
    assertThat(journals().list()).hasSize(1);
  }

  @Test
  void aMalformedJournalIsNamedAndKeptAndFailsStatusAndResumeAll() throws IOException {
    Files.createDirectories(journals().dir());
    Path bad = journals().dir().resolve("0bad0000-1111-4222-8333-944455556666.json");
    Files.writeString(bad, "{\"transfer_id\": \"x\", \"done\": [[0, ");
    Result status = fx.run("status");
    assertThat(status.exit()).as(status.toString()).isEqualTo(1);
    assertThat(status.err())
        .contains("diskferry: warning: cannot read journal " + bad + ": not valid JSON (line 1);"
            + " it is kept, fix or remove it");
    assertThat(errorLines(status))
        .containsExactly("diskferry: error: 1 journal file(s) cannot be read (named above)");
    Result resume = fx.run("resume", "--all");
    assertThat(resume.exit()).as(resume.toString()).isEqualTo(1);
    assertThat(errorLines(resume))
        .containsExactly(
            "diskferry: error: cannot read journal " + bad + ": not valid JSON (line 1); it is"
                + " kept, fix or remove it");
    assertThat(resume.out()).doesNotContain("nothing to resume");
    assertThat(bad).exists();
    Files.delete(bad);
  }

  @Test
  void cancellingAFinishedTransferSaysItHadAlreadyFinished() throws IOException {
    Path src = SandboxFixture.image(dir.resolve("done.img"), 1 << 20, 6, true);
    Result up = fx.run("-o", "json", "upload", src.toString(), "--name", "done");
    assertThat(up.exit()).as(up.toString()).isZero();
    JsonNode res = Json.mapper().readTree(up.out());
    String transfer = res.get("transfer_id").asText();
    Result c = fx.run("cancel", transfer);
    assertThat(c.exit()).as(c.toString()).isZero();
    assertThat(c.out())
        .isEqualTo("transfer " + transfer + " had already finished (finished_success); nothing"
            + " to cancel\n");
    assertThat(fx.sandbox.diskStatus(res.get("disk_id").asText())).contains("ok");
  }

  @Test
  void aDiskLockedByASuspendedTransferNamesItAndHowToEndIt() throws IOException {
    Path src = SandboxFixture.image(dir.resolve("held.img"), 1 << 20, 7, true);
    String disk = disk(src, "held");
    String transfer;
    try (EngineClient engine = engine()) {
      transfer =
          engine.createTransfer(
              new org.diskferry.ovirt.TransferSpec(disk, "upload", null, null, null)).id();
    }
    journal(transfer, disk, Direction.UPLOAD, fx.sandbox.engineUrl(), src);
    Result r = fx.run("download", disk, dir.resolve("held-back.img").toString());
    assertThat(r.exit()).as(r.toString()).isEqualTo(5);
    assertThat(errorLines(r))
        .containsExactly(
            "diskferry: error: disk " + disk + " is locked by transfer " + transfer
                + ", an upload of " + src + " that diskferry suspended: run 'diskferry resume "
                + transfer + "' to finish it or 'diskferry cancel " + transfer + "' to drop it");
    Result c = fx.run("cancel", transfer);
    assertThat(c.exit()).as(c.toString()).isZero();
    assertThat(journals().list()).isEmpty();
  }

  @Test
  void resumeAllWithoutACloudTriesGlanceJournalsTooAndNamesThoseItCannotResume()
      throws IOException {
    Path target = dir.resolve("glance-back.img");
    journal(
        org.diskferry.glance.GlanceDownload.journalId("0a0a0a0a-1111-4222-8333-944455556666",
            target),
        "0a0a0a0a-1111-4222-8333-944455556666", Direction.DOWNLOAD, "glance:nosuchcloud",
        target);
    Result r = fx.run("resume", "--all");
    assertThat(r.exit()).as(r.toString()).isNotZero();
    assertThat(r.out()).doesNotContain("nothing to resume");
    assertThat(errorLines(r)).hasSize(1);
    assertThat(errorLines(r).get(0)).contains("nosuchcloud");
    assertThat(journals().list()).hasSize(1);

    Result other = fx.run("resume", "--all", "--cloud", "othercloud");
    assertThat(other.exit()).as(other.toString()).isEqualTo(1);
    assertThat(errorLines(other))
        .containsExactly(
            "diskferry: error: not resuming " + journals().list().get(0).transferId() + " ("
                + target + "): it is a download from cloud nosuchcloud, not othercloud; run"
                + " 'diskferry resume --all' without --cloud (and without OS_CLOUD)");
  }
}
