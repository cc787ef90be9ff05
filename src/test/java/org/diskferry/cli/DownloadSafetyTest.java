package org.diskferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
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
import org.diskferry.transfer.Direction;
import org.diskferry.transfer.Journal;
import org.diskferry.transfer.JournalStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Downloads under local faults and misuse: a full file system, a local format that cannot hold
 * the disk, two runs writing the same file, a file that appears under the target's name, and
 * signals during a slow range. Each asserts the exit code, the one error line, and what is left
 * on the engine and on disk.
 */
class DownloadSafetyTest {

  @TempDir static Path dir;
  static SandboxFixture fx;
  static String disk16;
  static Path src16;

  @BeforeAll
  static void start() throws IOException {
    fx = new SandboxFixture(dir);
    src16 = SandboxFixture.image(dir.resolve("src16.img"), 16 << 20, 11, false);
    disk16 = upload(src16, "safety16");
  }

  @AfterAll
  static void stop() {
    fx.close();
  }

  @AfterEach
  void noFaults() {
    fx.sandbox.setFaultHook(null);
  }

  static String upload(Path src, String name) throws IOException {
    Result up = fx.run("-o", "json", "upload", src.toString(), "--name", name);
    assertThat(up.exit()).as(up.toString()).isZero();
    return Json.mapper().readTree(up.out()).get("disk_id").asText();
  }

  static JournalStore journals() {
    return JournalStore.fromEnvironment(fx.env());
  }

  /** No journal is left, and the disk is not locked (its transfer was ended). */
  static void assertNoJournalAndDiskFree() {
    assertThat(journals().list()).isEmpty();
    assertThat(fx.sandbox.diskStatus(disk16)).contains("ok");
  }

  static List<String> errorLines(String stderr) {
    return stderr.lines().filter(l -> l.startsWith("diskferry: error:")).toList();
  }

  /** Stalls every data GET (not extents) after the first {@code healthy} ones. */
  static void stallReadsAfter(int healthy, Duration stall) {
    AtomicInteger gets = new AtomicInteger();
    fx.sandbox.setFaultHook(
        r ->
            r.dataPlane() && r.method().equals("GET") && !r.path().endsWith("/extents")
                    && !r.path().endsWith("/checksum") && gets.incrementAndGet() > healthy
                ? FaultHook.Action.stall(stall)
                : null);
  }

  /**
   * Starts {@code diskferry download} of the 16 MiB disk in a child process (one worker, ranges
   * of {@code rangeSize}), and returns once its data moves.
   */
  static Process startDownload(Path target, Path err, String rangeSize) throws IOException {
    Process p = CliProcess.start(fx.env(), err, "download", disk16, target.toString(),
        "--workers", "1", "--range-size", rangeSize, "--buffer-size", "64K");
    try {
      CliProcess.awaitOutput(err, "downloading");
    } catch (RuntimeException e) {
      p.destroyForcibly();
      throw e;
    }
    return p;
  }

  /** Waits for the child to end (at most a minute) and returns the milliseconds it took. */
  static long awaitEnd(Process p) throws InterruptedException {
    long t0 = System.nanoTime();
    try {
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the child ended").isTrue();
    } finally {
      p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
    return (System.nanoTime() - t0) / 1_000_000;
  }

  static Optional<String> transferOf(String disk) throws IOException {
    Result s = fx.run("-o", "json", "status");
    assertThat(s.exit()).as(s.toString()).isZero();
    for (var row : Json.mapper().readTree(s.out())) {
      if (row.path("disk_id").asText().equals(disk)) {
        return Optional.of(row.get("id").asText());
      }
    }
    return Optional.empty();
  }

  // ------------------------------------------------------------------ a full local file system

  private static int sh(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return -1;
    }
    return p.exitValue();
  }

  /** Writes {@code file} until its file system is full. */
  private static void fill(Path file) throws IOException {
    byte[] block = new byte[64 << 10];
    java.util.Arrays.fill(block, (byte) 1);
    try (var out = Files.newOutputStream(file)) {
      while (true) {
        out.write(block);
      }
    } catch (IOException e) {
      if (!String.valueOf(e.getMessage()).contains("No space left")) {
        throw e;
      }
    }
  }

  @Test
  void aFullFileSystemFailsTheDownloadAtOnceAndLeavesNothingBehind() throws Exception {
    assumeTrue("true".equals(System.getenv("CI")) && "root".equals(System.getProperty("user.name")),
        "a full file system needs a tmpfs mount: runs as root with CI=true");
    Path small = dir.resolve("small-fs");
    Files.createDirectories(small);
    assertThat(sh("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", small.toString()))
        .as("mount a 4 MiB tmpfs").isZero();
    try {
      Path target = small.resolve("back.img");
      long started = System.nanoTime();
      Result r = fx.run("download", disk16, target.toString(), "--retry-delay", "200");
      double seconds = (System.nanoTime() - started) / 1e9;

      assertThat(r.exit()).as(r.toString()).isEqualTo(1);
      List<String> errors = errorLines(r.err());
      assertThat(errors).as(r.toString()).hasSize(1);
      assertThat(errors.get(0))
          .startsWith("diskferry: error: cannot write " + target + ".part: No space left on device")
          .contains("the download needs 16.0 MiB there")
          .contains("removed the partial file")
          .contains("was finalized")
          .doesNotContain("ticket");
      // Never retried as if the network had failed, nor offered to resume.
      assertThat(r.err()).doesNotContain("retry").doesNotContain("resume");
      assertThat(seconds).isLessThan(30);
      assertThat(target).doesNotExist();
      assertThat(small.resolve("back.img.part")).doesNotExist();
      assertThat(journals().list()).isEmpty();
      // Finalized: the disk is not left locked.
      assertThat(fx.sandbox.diskStatus(disk16)).contains("ok");

      // A file system with no room at all: the partial file cannot even be laid out.
      fill(small.resolve("filler"));
      Result none = fx.run("download", disk16, target.toString());
      assertThat(none.exit()).as(none.toString()).isEqualTo(1);
      assertThat(errorLines(none.err())).as(none.toString()).hasSize(1);
      assertThat(errorLines(none.err()).get(0))
          .startsWith("diskferry: error: cannot write " + target + ".part: No space left on"
              + " device; the download needs 16.0 MiB there and 0.0 MiB is free")
          .contains("removed the partial file");
      assertThat(small.resolve("back.img.part")).doesNotExist();
      assertNoJournalAndDiskFree();
    } finally {
      sh("umount", small.toString());
    }
    // With the space there, the same command works.
    Path roomy = dir.resolve("roomy.img");
    Result again = fx.run("download", disk16, roomy.toString());
    assertThat(again.exit()).as(again.toString()).isZero();
    assertThat(Files.mismatch(src16, roomy)).isEqualTo(-1L);
  }

  // ------------------------------------------------ qcow2 of a disk of an odd size (issue item 6)

  @Test
  void qcow2OfADiskOfAnOddSizeIsRefusedBeforeATransferExists() throws Exception {
    Path src = SandboxFixture.image(dir.resolve("odd.img"), (1 << 20) + 100, 3, false);
    String disk = upload(src, "odd");
    AtomicInteger created = new AtomicInteger();
    fx.sandbox.setFaultHook(
        r -> {
          if (r.method().equals("POST") && r.path().endsWith("/imagetransfers")) {
            created.incrementAndGet();
          }
          return null;
        });
    Path target = dir.resolve("odd.qcow2");
    Result r = fx.run("download", disk, target.toString(), "-f", "qcow2");
    assertThat(r.exit()).as(r.toString()).isEqualTo(2);
    assertThat(errorLines(r.err())).as(r.toString()).containsExactly(
        "diskferry: error: disk " + disk + " has 1048676 bytes, not a multiple of 512, which a"
            + " qcow2 file cannot hold exactly; download it as raw (-f raw)");
    assertThat(created).hasValue(0);
    assertThat(target).doesNotExist();
    assertThat(dir.resolve("odd.qcow2.part")).doesNotExist();
    assertThat(journals().list()).isEmpty();
    assertThat(fx.sandbox.diskStatus(disk)).contains("ok");
  }

  @Test
  void resumeAllNamesAJournalItCannotResumeKeepsItAndResumesTheOthers() throws Exception {
    Path odd = SandboxFixture.image(dir.resolve("odd2.img"), (1 << 20) + 100, 4, false);
    String oddDisk = upload(odd, "odd2");
    Path good = SandboxFixture.image(dir.resolve("good.img"), 3 << 20, 5, true);
    String goodDisk = upload(good, "good");
    Path oddTarget = dir.resolve("odd2.qcow2");
    Path goodTarget = dir.resolve("good-back.img");
    String oddId = "0b5a9d3e-0000-4000-8000-000000000001";
    // What an older version left: a qcow2 download journal of a disk qcow2 cannot hold (its
    // transfer ended), saved before a resumable one.
    journals().save(new Journal(
        Journal.VERSION, oddId, oddDisk, Direction.DOWNLOAD, fx.sandbox.engineUrl(),
        oddTarget.toString(), 0, 0, (1 << 20) + 100, false, false, List.of(), 1000)
        .withFormat("qcow2"));
    String goodId;
    try (EngineClient engine = fx.engine()) {
      var t = engine.createTransfer(
          new org.diskferry.ovirt.TransferSpec(goodDisk, "download", null, null, null));
      goodId = t.id();
      journals().save(new Journal(
          Journal.VERSION, goodId, goodDisk, Direction.DOWNLOAD, engine.engineUrl(),
          goodTarget.toString(), 0, 0, 3 << 20, false, false, List.of(), 2000));
    }
    Result r = fx.run("resume", "--all");
    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertThat(errorLines(r.err())).as(r.toString()).containsExactly(
        "diskferry: error: journal " + journals().file(oddId) + " cannot be resumed: disk "
            + oddDisk + " has 1048676 bytes, not a multiple of 512, which a qcow2 file cannot"
            + " hold exactly; download it as raw (-f raw); 'diskferry cancel "
            + oddId + "' cleans it up");
    assertThat(Files.mismatch(good, goodTarget)).isEqualTo(-1L);
    assertThat(journals().load(goodId)).isEmpty();
    assertThat(journals().load(oddId)).isPresent();
    assertThat(fx.sandbox.diskStatus(goodDisk)).contains("ok");
    assertThat(oddTarget).doesNotExist();
    journals().delete(oddId);
  }

  // ------------------------------------------------ two runs writing one file (issue item 20)

  @Test
  void aSecondDownloadToTheSameFileRefusesAndTheFirstEndsWhole() throws Exception {
    Path target = dir.resolve("twice.img");
    Path err = dir.resolve("twice.err");
    stallReadsAfter(1, Duration.ofMillis(300));
    Process first = startDownload(target, err, "1M");
    Result second;
    try {
      second = fx.run("download", disk16, target.toString());
    } finally {
      fx.sandbox.setFaultHook(null);
      awaitEnd(first);
    }
    assertThat(second.exit()).as(second.toString()).isEqualTo(5);
    assertThat(errorLines(second.err())).as(second.toString()).containsExactly(
        "diskferry: error: " + target + " is being written by another diskferry (its"
            + " twice.img.part is locked); wait until that one ends, or stop it");
    assertThat(first.exitValue()).as(Files.readString(err, StandardCharsets.UTF_8)).isZero();
    assertThat(Files.mismatch(src16, target)).isEqualTo(-1L);
    assertThat(dir.resolve("twice.img.part")).doesNotExist();
    assertNoJournalAndDiskFree();
  }

  @Test
  void aFileThatAppearsUnderTheTargetNameDuringTheDownloadIsNotReplaced() throws Exception {
    Path target = dir.resolve("appears.img");
    Path err = dir.resolve("appears.err");
    stallReadsAfter(1, Duration.ofMillis(200));
    Process p = startDownload(target, err, "1M");
    try {
      Files.writeString(target, "someone else's file\n");
    } finally {
      awaitEnd(p);
    }
    String text = Files.readString(err, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(text).isEqualTo(5);
    assertThat(errorLines(text)).as(text).containsExactly(
        "diskferry: error: " + target + " appeared while the download ran and was left alone;"
            + " the complete download is in " + target + ".part (rename it yourself, or"
            + " download again with --force)");
    assertThat(Files.readString(target)).isEqualTo("someone else's file\n");
    assertThat(Files.mismatch(src16, dir.resolve("appears.img.part"))).isEqualTo(-1L);
    assertNoJournalAndDiskFree();
  }

  // ------------------------------------------------------- signals during a slow range (item 5)

  @Test
  void sigintDuringAStalledRangeStopsAtOnceAndResumeFinishes() throws Exception {
    Path target = dir.resolve("sigint.img");
    Path err = dir.resolve("sigint.err");
    // One range of 8 MiB moves, the next hangs for 40 s (a link that went slow).
    stallReadsAfter(1, Duration.ofSeconds(40));
    long took;
    Process p = startDownload(target, err, "8M");
    try {
      Thread.sleep(1500); // the second range is in flight
      CliProcess.signal(p, "INT");
    } finally {
      took = awaitEnd(p);
    }
    fx.sandbox.setFaultHook(null);
    String text = Files.readString(err, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(text).isEqualTo(130);
    assertThat(took).as(text).isLessThan(15_000);
    List<Journal> left = journals().list();
    assertThat(left).hasSize(1);
    String id = left.get(0).transferId();
    assertThat(errorLines(text)).as(text).hasSize(1);
    assertThat(errorLines(text).get(0)).contains("interrupted by SIGINT")
        .contains("diskferry resume " + id);
    assertThat(fx.sandbox.transferPhase(id)).contains("finished_success");
    assertThat(fx.sandbox.diskStatus(disk16)).contains("ok");
    assertThat(dir.resolve("sigint.img.part")).exists();

    Result r = fx.run("resume", id);
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(Files.mismatch(src16, target)).isEqualTo(-1L);
    assertThat(journals().list()).isEmpty();
  }

  @Test
  void aSecondSignalPrintsOneLineAndLeavesNoTransferOpen() throws Exception {
    Path target = dir.resolve("twosig.img");
    Path err = dir.resolve("twosig.err");
    AtomicInteger gets = new AtomicInteger();
    AtomicInteger finalizes = new AtomicInteger();
    // Data moves slowly, and the engine takes its time over the first finalize: the first
    // signal's clean stop is still waiting when the second signal comes.
    fx.sandbox.setFaultHook(
        r -> {
          if (r.dataPlane() && r.method().equals("GET") && !r.path().endsWith("/extents")
              && gets.incrementAndGet() > 1) {
            return FaultHook.Action.stall(Duration.ofMillis(300));
          }
          if (r.method().equals("POST") && r.path().endsWith("/finalize")
              && finalizes.incrementAndGet() == 1) {
            return FaultHook.Action.stall(Duration.ofSeconds(20));
          }
          return null;
        });
    Process p = startDownload(target, err, "1M");
    long took;
    try {
      CliProcess.signal(p, "INT");
      Poll.until(Duration.ofSeconds(30), "the first finalize",
          () -> finalizes.get() >= 1 ? Optional.of(true) : Optional.empty());
      CliProcess.signal(p, "INT");
    } finally {
      took = awaitEnd(p);
    }
    String text = Files.readString(err, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(text).isEqualTo(130);
    assertThat(took).as(text).isLessThan(15_000);
    List<Journal> left = journals().list();
    assertThat(left).as(text).hasSize(1);
    String id = left.get(0).transferId();
    assertThat(errorLines(text)).as(text).containsExactly(
        "diskferry: error: interrupted again by SIGINT; transfer " + id + " was finalized: run"
            + " 'diskferry resume " + id + "' to continue or 'diskferry cancel " + id
            + "' to drop it");
    // Nothing is left open on the engine.
    assertThat(fx.sandbox.transferPhase(id)).contains("finished_success");
    assertThat(fx.sandbox.diskStatus(disk16)).contains("ok");
    fx.sandbox.setFaultHook(null);

    Result r = fx.run("resume", id);
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(Files.mismatch(src16, target)).isEqualTo(-1L);
    assertThat(journals().list()).isEmpty();
  }

  @Test
  void aSecondSignalDuringAnUploadPausesItAndSaysSo() throws Exception {
    Path src = SandboxFixture.image(dir.resolve("up2sig.img"), 8 << 20, 12, false);
    Path err = dir.resolve("up2sig.err");
    AtomicInteger pauses = new AtomicInteger();
    // Data moves slowly, and the engine takes its time over the first pause.
    fx.sandbox.setFaultHook(
        r -> {
          if (r.dataPlane() && r.method().equals("PUT")) {
            return FaultHook.Action.stall(Duration.ofMillis(300));
          }
          if (r.method().equals("POST") && r.path().endsWith("/pause")
              && pauses.incrementAndGet() == 1) {
            return FaultHook.Action.stall(Duration.ofSeconds(20));
          }
          return null;
        });
    Process p = CliProcess.start(fx.env(), err, "upload", src.toString(), "--name", "up2sig",
        "--workers", "1", "--range-size", "1M", "--buffer-size", "64K");
    long took;
    try {
      CliProcess.awaitOutput(err, "uploading");
      CliProcess.signal(p, "TERM");
      Poll.until(Duration.ofSeconds(30), "the first pause",
          () -> pauses.get() >= 1 ? Optional.of(true) : Optional.empty());
      CliProcess.signal(p, "TERM");
    } finally {
      took = awaitEnd(p);
    }
    String text = Files.readString(err, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(text).isEqualTo(143);
    assertThat(took).as(text).isLessThan(15_000);
    List<Journal> left = journals().list();
    assertThat(left).as(text).hasSize(1);
    String id = left.get(0).transferId();
    assertThat(errorLines(text)).as(text).containsExactly(
        "diskferry: error: interrupted again by SIGTERM; transfer " + id + " was paused: run"
            + " 'diskferry resume " + id + "' to continue or 'diskferry cancel " + id
            + "' to drop it");
    assertThat(fx.sandbox.transferPhase(id)).contains("paused_user");
    fx.sandbox.setFaultHook(null);

    Result r = fx.run("-o", "json", "resume", id);
    assertThat(r.exit()).as(r.toString()).isZero();
    String disk = Json.mapper().readTree(r.out()).get("disk_id").asText();
    assertThat(journals().list()).isEmpty();
    Path back = dir.resolve("up2sig-back.img");
    Result down = fx.run("download", disk, back.toString());
    assertThat(down.exit()).as(down.toString()).isZero();
    assertThat(Files.mismatch(src, back)).isEqualTo(-1L);
  }
}
