package org.diskferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.diskferry.cli.SandboxFixture.Result;
import org.diskferry.http.Json;
import org.diskferry.ovirt.EngineClient;
import org.diskferry.ovirt.Poll;
import org.diskferry.sandbox.FaultHook;
import org.diskferry.transfer.Journal;
import org.diskferry.transfer.JournalStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Interrupted transfers finished by {@code diskferry resume}, bytes compared every time. */
class ResumeTest {

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
  void noFaults() {
    fx.sandbox.setFaultHook(null);
  }

  static JournalStore journals() {
    return fx.journals();
  }

  static EngineClient engine() {
    return fx.engine();
  }

  /** Waits until some journal records done bytes, and returns it. */
  static Journal awaitProgress() {
    return Poll.until(
        Duration.ofSeconds(60),
        "a journal with bytes done",
        () -> journals().list().stream().filter(j -> j.bytesDone() > 0).findFirst());
  }

  /**
   * Runs diskferry with these arguments in a child process, kills it with -9 as soon as its
   * journal records bytes done, and returns that journal. Its stderr goes to {@code err}, and is
   * shown when no progress comes.
   */
  static Journal killAtProgress(Path err, String... args) throws Exception {
    Process p = CliProcess.start(fx.env(), err, args);
    try {
      return awaitProgress();
    } catch (RuntimeException e) {
      throw new AssertionError(Files.readString(err, StandardCharsets.UTF_8), e);
    } finally {
      p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
  }

  static void assertSameBytes(String disk, Path expected) throws IOException {
    Path back = dir.resolve("check-" + System.nanoTime() + ".img");
    Result r = fx.run("download", disk, back.toString());
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(Files.mismatch(expected, back)).isEqualTo(-1L);
    Files.delete(back);
  }

  static Result resume(String id) {
    return fx.run("-o", "json", "resume", id, "--retry-delay", "5");
  }

  @Test
  void killDashNineDuringAnUploadThenResume() throws Exception {
    Path src = SandboxFixture.image(dir.resolve("k9-up.img"), 96 << 20, 1, true);
    Path err = dir.resolve("k9-up.err");
    slowDataPlane(Duration.ofMillis(20));
    Journal j =
        killAtProgress(
            err, "upload", src.toString(), "--name", "k9-up",
            "--workers", "2", "--buffer-size", "64K", "--range-size", "1M");
    assertThat(j.bytesDone()).isLessThan(96L << 20);
    fx.sandbox.setFaultHook(null);
    Result r = resume(j.transferId());
    assertThat(r.exit()).as(r.toString()).isZero();
    JsonNode res = Json.mapper().readTree(r.out());
    assertThat(res.get("disk_id").asText()).isEqualTo(j.diskId());
    assertThat(res.get("bytes_sent").asLong()).isLessThan(96L << 20);
    assertThat(journals().list()).isEmpty();
    assertSameBytes(j.diskId(), src);
  }

  @Test
  void anUploadCancelledOnTheServerCannotBeResumedAndLeavesNothingBehind() throws Exception {
    Path src = SandboxFixture.image(dir.resolve("k9-cancelled.img"), 64 << 20, 4, true);
    Path err = dir.resolve("k9-cancelled.err");
    slowDataPlane(Duration.ofMillis(20));
    Journal j =
        killAtProgress(
            err, "upload", src.toString(), "--name", "k9-cancelled",
            "--workers", "2", "--buffer-size", "64K", "--range-size", "1M");
    fx.sandbox.setFaultHook(null);
    try (EngineClient engine = engine()) {
      engine.cancelTransfer(j.transferId());
    }
    // The engine removes the disk of a cancelled upload: nothing can continue it.
    Poll.until(
        Duration.ofSeconds(30),
        "the cancelled upload's disk to be removed",
        () -> fx.sandbox.diskStatus(j.diskId()).isEmpty() ? Optional.of(true) : Optional.empty());
    Result r = resume(j.transferId());
    assertThat(r.exit()).as(r.toString()).isEqualTo(4);
    // One error line (after the JSON progress events).
    assertThat(r.err().lines().filter(l -> !l.startsWith("{"))).hasSize(1);
    assertThat(r.err().lines().filter(l -> !l.startsWith("{")).findFirst().orElseThrow())
        .startsWith("diskferry: error: disk " + j.diskId() + " no longer exists")
        .contains("start it again")
        .contains("removed its journal");
    assertThat(journals().list()).isEmpty();
    Result status = fx.run("-o", "json", "status");
    assertThat(status.exit()).as(status.toString()).isZero();
    // The engine still lists the ended transfer for a while; nothing offers to resume it.
    for (JsonNode row : Json.mapper().readTree(status.out())) {
      if (row.get("id").asText().equals(j.transferId())) {
        assertThat(row.get("phase").asText()).isEqualTo("finished_failure");
        assertThat(row.get("journal").asBoolean()).isFalse();
        assertThat(row.get("resumable").asBoolean()).isFalse();
      }
    }
  }

  /** Starts an upload whose new disk never turns ok, and kills it once its disk is journaled. */
  static Journal killWhileWaitingForTheDisk(Path src, String name) throws Exception {
    // Every poll of a disk waits 30 s: the upload sits in "waiting for disk".
    fx.sandbox.setFaultHook(
        r ->
            r.method().equals("GET") && r.path().matches("/ovirt-engine/api/disks/[0-9a-f-]+")
                ? FaultHook.Action.stall(Duration.ofSeconds(30))
                : null);
    Path err = dir.resolve(name + ".err");
    Process p = CliProcess.start(fx.env(), err, "upload", src.toString(), "--name", name);
    try {
      return Poll.until(
          Duration.ofSeconds(60),
          "a journal of the new disk",
          () -> journals().list().stream().filter(Journal::pending).findFirst());
    } catch (RuntimeException e) {
      throw new AssertionError(Files.readString(err, StandardCharsets.UTF_8), e);
    } finally {
      p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
      fx.sandbox.setFaultHook(null);
    }
  }

  @Test
  void killDashNineBetweenCreatingTheDiskAndTheTransferThenResume() throws Exception {
    Path src = SandboxFixture.image(dir.resolve("k9-disk.img"), 8 << 20, 5, true);
    Journal j = killWhileWaitingForTheDisk(src, "k9-disk");
    assertThat(j.transferId()).isEqualTo("disk-" + j.diskId());
    assertThat(j.createdDisk()).isTrue();
    Result status = fx.run("-o", "json", "status", j.transferId());
    assertThat(status.exit()).as(status.toString()).isZero();
    JsonNode row = Json.mapper().readTree(status.out());
    assertThat(row.get("phase").asText()).isEqualTo("no_transfer");
    assertThat(row.get("resumable").asBoolean()).isTrue();
    Result r = resume(j.transferId());
    assertThat(r.exit()).as(r.toString()).isZero();
    JsonNode res = Json.mapper().readTree(r.out());
    assertThat(res.get("disk_id").asText()).isEqualTo(j.diskId());
    assertThat(journals().list()).isEmpty();
    assertSameBytes(j.diskId(), src);
  }

  @Test
  void cancelRemovesTheDiskOfAnUploadKilledBeforeItHadATransfer() throws Exception {
    Path src = SandboxFixture.image(dir.resolve("k9-disk2.img"), 4 << 20, 6, true);
    Journal j = killWhileWaitingForTheDisk(src, "k9-disk2");
    Result c = fx.run("-o", "json", "cancel", j.transferId());
    assertThat(c.exit()).as(c.toString()).isZero();
    JsonNode res = Json.mapper().readTree(c.out());
    assertThat(res.get("disk_removed").asBoolean()).isTrue();
    assertThat(fx.sandbox.diskStatus(j.diskId())).isEmpty();
    assertThat(journals().list()).isEmpty();
  }

  @Test
  void killDashNineDuringADownloadThenResumeAfterTheServerEndedIt() throws Exception {
    Path src = SandboxFixture.image(dir.resolve("k9-down.img"), 64 << 20, 2, true);
    Result up = fx.run("-o", "json", "upload", src.toString(), "--name", "k9-down");
    assertThat(up.exit()).as(up.toString()).isZero();
    String disk = Json.mapper().readTree(up.out()).get("disk_id").asText();
    Path target = dir.resolve("k9-down-back.img");
    Path err = dir.resolve("k9-down.err");
    slowDataPlane(Duration.ofMillis(150));
    Journal j =
        killAtProgress(
            err, "download", disk, target.toString(), "--workers", "1",
            "--buffer-size", "64K", "--range-size", "1M");
    fx.sandbox.setFaultHook(null);
    try (EngineClient engine = engine()) {
      engine.cancelTransfer(j.transferId());
    }
    Result r = resume(j.transferId());
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(Json.mapper().readTree(r.out()).get("transfer_id").asText())
        .isNotEqualTo(j.transferId());
    assertThat(Files.mismatch(src, target)).isEqualTo(-1L);
    assertThat(dir.resolve("k9-down-back.img.part")).doesNotExist();
    assertThat(journals().list()).isEmpty();
    assertThat(fx.sandbox.diskStatus(disk)).contains("ok");
  }

  @Test
  void sigintSuspendsAnUploadAndResumeFinishesIt() throws Exception {
    Path src = SandboxFixture.image(dir.resolve("int.img"), 96 << 20, 3, false);
    Path err = dir.resolve("int.err");
    slowDataPlane(Duration.ofMillis(20));
    Process p =
        CliProcess.start(fx.env(), err, "upload", src.toString(), "--name", "sigint",
            "--workers", "1", "--buffer-size", "64K", "--range-size", "1M");
    try {
      awaitProgress();
      CliProcess.signal(p, "INT");
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    } finally {
      p.destroyForcibly();
    }
    fx.sandbox.setFaultHook(null);
    String text = Files.readString(err, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(text).isEqualTo(130);
    List<Journal> left = journals().list();
    assertThat(left).hasSize(1);
    String id = left.get(0).transferId();
    assertThat(text).contains("diskferry resume " + id);

    Result status = fx.run("-o", "json", "status", id);
    assertThat(status.exit()).as(status.toString()).isZero();
    JsonNode s = Json.mapper().readTree(status.out());
    assertThat(s.get("phase").asText()).isEqualTo("paused_user");
    assertThat(s.get("resumable").asBoolean()).isTrue();
    assertThat(s.get("bytes_done").asLong()).isPositive();

    Result r = resume(id);
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(journals().list()).isEmpty();
    assertSameBytes(left.get(0).diskId(), src);
  }

  @Test
  void aDownloadKilledBeforeItsPartialFileExistedStartsOver() throws IOException {
    Path src = SandboxFixture.image(dir.resolve("early.img"), 3 << 20, 6, true);
    Result up = fx.run("-o", "json", "upload", src.toString(), "--name", "early");
    assertThat(up.exit()).as(up.toString()).isZero();
    String disk = Json.mapper().readTree(up.out()).get("disk_id").asText();
    Path target = dir.resolve("early-back.img");
    // What a kill -9 right after the engine created the transfer leaves: a live transfer that
    // locks the disk, and a journal with nothing done, but no partial file yet.
    try (EngineClient engine = engine()) {
      var t =
          engine.createTransfer(
              new org.diskferry.ovirt.TransferSpec(disk, "download", null, null, null));
      journals()
          .save(
              new Journal(
                  Journal.VERSION, t.id(), disk, org.diskferry.transfer.Direction.DOWNLOAD,
                  engine.engineUrl(), target.toString(), 0, 0, 3 << 20, false, false,
                  List.of(), System.currentTimeMillis()));
      Result r = resume(t.id());
      assertThat(r.exit()).as(r.toString()).isZero();
    }
    assertThat(Files.mismatch(src, target)).isEqualTo(-1L);
    assertThat(journals().list()).isEmpty();
    assertThat(fx.sandbox.diskStatus(disk)).contains("ok");
  }

  /** Slows data requests down, so a child process can be stopped in the middle of a transfer. */
  static void slowDataPlane(Duration perRequest) {
    fx.sandbox.setFaultHook(
        r ->
            r.dataPlane()
                    && (r.method().equals("PUT")
                        || (r.method().equals("GET") && !r.path().endsWith("/extents")))
                ? FaultHook.Action.stall(perRequest)
                : null);
  }

  /** Resets every PUT after the first {@code healthy} ones. */
  static void breakUploadsAfter(int healthy) {
    AtomicInteger puts = new AtomicInteger();
    fx.sandbox.setFaultHook(
        r ->
            r.dataPlane() && r.method().equals("PUT") && puts.incrementAndGet() > healthy
                ? FaultHook.Action.resetAfter(100)
                : null);
  }

  @Test
  void retriesRunOutThenResumeAfterTheNetworkHeals() throws IOException {
    Path src = SandboxFixture.image(dir.resolve("flaky.img"), 8 << 20, 4, false);
    breakUploadsAfter(40);
    Result up =
        fx.run("upload", src.toString(), "--name", "heals", "--workers", "2", "--retries", "2",
            "--retry-delay", "5", "--buffer-size", "64K", "--range-size", "256K");
    assertThat(up.exit()).as(up.toString()).isEqualTo(75);
    Journal j = journals().list().get(0);
    assertThat(up.err()).contains("diskferry resume " + j.transferId());
    fx.sandbox.setFaultHook(null);
    Result r = resume(j.transferId());
    assertThat(r.exit()).as(r.toString()).isZero();
    assertSameBytes(j.diskId(), src);
  }

  @Test
  void resumeIsRefusedWhenTheSourceChanged() throws IOException {
    Path src = SandboxFixture.image(dir.resolve("changed.img"), 8 << 20, 5, false);
    breakUploadsAfter(10);
    Result up =
        fx.run("upload", src.toString(), "--name", "changed", "--retries", "1",
            "--retry-delay", "5", "--buffer-size", "64K", "--range-size", "256K");
    assertThat(up.exit()).as(up.toString()).isEqualTo(75);
    fx.sandbox.setFaultHook(null);
    Journal j = journals().list().get(0);
    Files.setLastModifiedTime(src, FileTime.fromMillis(j.localModified() + 5000));
    Result r = resume(j.transferId());
    assertThat(r.exit()).as(r.toString()).isEqualTo(2);
    assertThat(r.err()).contains("changed since transfer " + j.transferId());
    assertThat(journals().load(j.transferId())).isPresent();

    Result cancel = fx.run("cancel", j.transferId());
    assertThat(cancel.exit()).as(cancel.toString()).isZero();
    assertThat(journals().load(j.transferId())).isEmpty();
    assertThat(Optional.ofNullable(fx.sandbox.diskStatus(j.diskId()).orElse(null))).isEmpty();
  }
}
