package org.diskferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.diskferry.cli.SandboxFixture.Result;
import org.diskferry.http.Json;
import org.diskferry.ovirt.Poll;
import org.diskferry.transfer.Journal;
import org.diskferry.transfer.JournalStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Uploads, downloads, {@code --verify}, qcow2 sources and {@code kill -9} + {@code resume}
 * through the real ovirt-imageio daemon and qemu-nbd (see {@link OvirtLocal}), each result
 * compared byte for byte with the volume file the server wrote or with the source.
 */
class OvirtLocalIT {

  @TempDir static Path dir;
  static OvirtLocal ovirt;
  static Map<String, String> env;

  @BeforeAll
  static void start() throws Exception {
    // Short engine steps: the tests wait for phases, not for the emulation's default pacing.
    ovirt = OvirtLocal.start("it", "--step-delay", "0.1", "--poll-interval", "0.2");
    env = ovirt.env(dir.resolve("home"));
  }

  @AfterAll
  static void stop() {
    if (ovirt != null) {
      ovirt.close();
    }
  }

  static Result run(String... args) {
    return SandboxFixture.inProcess(env, args);
  }

  static JsonNode json(Result r) throws IOException {
    assertThat(r.exit()).as(r.toString()).isZero();
    return Json.mapper().readTree(r.out());
  }

  static JsonNode upload(Path src, String name, String... more) throws IOException {
    List<String> args = new ArrayList<>(List.of("-o", "json", "upload", src.toString(), "--name", name));
    args.addAll(List.of(more));
    JsonNode up = json(run(args.toArray(String[]::new)));
    assertThat(up.get("phase").asText()).isEqualTo("finished_success");
    return up;
  }

  static List<Journal> journals() {
    return JournalStore.fromEnvironment(env).list();
  }

  /** The volume file the daemon wrote for a disk. */
  static Path volume(String disk) throws IOException {
    JsonNode d = ovirt.disk(disk);
    assertThat(d).as("disk " + disk + " on the engine").isNotNull();
    return Path.of(d.get("path").asText());
  }

  /** The disk is ok and unlocked, and no transfer of it is still open on the engine. */
  static void assertSettled(String disk) throws IOException {
    Poll.until(Duration.ofSeconds(60), "disk " + disk + " ok with no transfer open", () -> {
      try {
        JsonNode d = ovirt.disk(disk);
        boolean open = false;
        for (JsonNode t : ovirt.transfers(disk)) {
          open |= t.path("active").asBoolean() || t.path("ticket_installed").asBoolean();
        }
        return d != null && d.path("status").asText().equals("ok") && d.path("locked_by").isNull()
            && !open ? java.util.Optional.of(true) : java.util.Optional.empty();
      } catch (IOException e) {
        return java.util.Optional.empty();
      }
    });
  }

  /** qemu-img compare: the same guest data, whatever the two files' formats. */
  static void assertSameGuestData(Path a, Path b) throws IOException, InterruptedException {
    ImageFormatsEndToEndTest.qemuImg("compare", a.toString(), b.toString());
  }

  @Test
  void rawUploadAndDownloadWithVerifyMatchTheVolumeByteForByte() throws Exception {
    Path src = SandboxFixture.image(dir.resolve("raw.img"), (40 << 20) + 4096, 11, true);
    JsonNode up = upload(src, "raw", "--verify");
    assertThat(up.get("bytes").asLong()).isEqualTo(Files.size(src));
    assertThat(up.path("checksum").path("verified").asBoolean()).isTrue();
    String disk = up.get("disk_id").asText();
    assertSettled(disk);
    assertThat(ovirt.disk(disk).get("format").asText()).isEqualTo("raw");
    assertThat(Files.mismatch(src, volume(disk))).isEqualTo(-1L);

    Path back = dir.resolve("raw-back.img");
    JsonNode down = json(run("-o", "json", "download", disk, back.toString(), "--verify"));
    assertThat(down.path("checksum").path("checksum").asText())
        .isEqualTo(up.path("checksum").path("checksum").asText());
    assertThat(Files.mismatch(src, back)).isEqualTo(-1L);
    assertThat(dir.resolve("raw-back.img.part")).doesNotExist();
    assertThat(journals()).isEmpty();
    assertSettled(disk);
  }

  @Test
  void qcow2SourceBecomesTheSameGuestDataAndComesBackAsRawAndQcow2() throws Exception {
    // Data at both ends and in the middle, holes between: qemu-img keeps only the data clusters.
    Path raw = dir.resolve("guest.raw");
    try (var f = new java.io.RandomAccessFile(raw.toFile(), "rw")) {
      f.setLength(48 << 20);
      java.util.Random r = new java.util.Random(12);
      byte[] b = new byte[3 << 19];
      for (long at : new long[] {0, 17 << 20, (48 << 20) - b.length}) {
        r.nextBytes(b);
        f.seek(at);
        f.write(b);
      }
    }
    Path qcow = dir.resolve("guest.qcow2");
    ImageFormatsEndToEndTest.qemuImg("convert", "-f", "raw", "-O", "qcow2", raw.toString(), qcow.toString());

    JsonNode up = upload(qcow, "guest", "--verify");
    assertThat(up.get("bytes").asLong()).isEqualTo(48L << 20);
    assertThat(up.path("checksum").path("verified").asBoolean()).isTrue();
    String disk = up.get("disk_id").asText();
    assertSettled(disk);
    assertSameGuestData(raw, volume(disk));

    Path backRaw = dir.resolve("guest-back.raw");
    json(run("-o", "json", "download", disk, backRaw.toString(), "--verify"));
    assertThat(Files.mismatch(raw, backRaw)).isEqualTo(-1L);
    Path backQcow = dir.resolve("guest-back.qcow2");
    json(run("-o", "json", "download", disk, backQcow.toString(), "-f", "qcow2"));
    assertSameGuestData(raw, backQcow);
    assertThat(journals()).isEmpty();
    assertSettled(disk);
  }

  /**
   * Runs diskferry in a child JVM, kills it with -9 once its journal records bytes done, and
   * returns that journal.
   */
  static Journal killAtProgress(String name, String... args) throws Exception {
    Path err = dir.resolve(name + ".err");
    // Checkpoints every 100 ms: on a fast machine the whole transfer takes less than the
    // default 2 s between them, and the kill must come while it runs.
    Process p = CliProcess.start(List.of("-Ddiskferry.checkpoint.millis=100"), env, err, args);
    try {
      // Looked at every 50 ms (Poll backs off to seconds): a fast transfer lives for about 2 s.
      long deadline = System.nanoTime() + Duration.ofSeconds(120).toNanos();
      while (System.nanoTime() < deadline && p.isAlive()) {
        Optional<Journal> j = journals().stream().filter(x -> x.bytesDone() > 0).findFirst();
        if (j.isPresent()) {
          return j.get();
        }
        Thread.sleep(50);
      }
      throw new AssertionError("no journal with bytes done while the child ran:\n"
          + Files.readString(err, StandardCharsets.UTF_8));
    } finally {
      p.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
    }
  }

  @Test
  void killDashNineDuringAnUploadThenResumeFinishesOnTheSameDisk() throws Exception {
    long size = 128L << 20;
    Path src = SandboxFixture.image(dir.resolve("k9-up.img"), size, 13, true);
    // One worker and small requests: the upload is still running when the journal shows progress.
    Journal j = killAtProgress("k9-up", "upload", src.toString(), "--name", "k9-up",
        "--workers", "1", "--buffer-size", "64K", "--range-size", "1M");
    assertThat(j.bytesDone()).isLessThan(size);
    // The engine still holds the transfer open and the disk locked.
    assertThat(ovirt.transfers(j.diskId())).anySatisfy(
        t -> assertThat(t.path("phase").asText()).isEqualTo("transferring"));

    JsonNode res = json(run("-o", "json", "resume", j.transferId(), "--retry-delay", "5"));
    assertThat(res.get("disk_id").asText()).isEqualTo(j.diskId());
    assertThat(res.get("bytes_sent").asLong()).isLessThan(size);
    assertThat(journals()).isEmpty();
    assertSettled(j.diskId());
    assertThat(Files.mismatch(src, volume(j.diskId()))).isEqualTo(-1L);
  }

  @Test
  void killDashNineDuringADownloadThenResumeCompletesTheFile() throws Exception {
    long size = 128L << 20;
    Path src = SandboxFixture.image(dir.resolve("k9-down.img"), size, 14, true);
    String disk = upload(src, "k9-down").get("disk_id").asText();
    assertSettled(disk);
    Path target = dir.resolve("k9-down-back.img");
    Journal j = killAtProgress("k9-down", "download", disk, target.toString(),
        "--workers", "1", "--buffer-size", "64K", "--range-size", "1M");
    assertThat(j.bytesDone()).isLessThan(size);
    assertThat(dir.resolve("k9-down-back.img.part")).exists();
    assertThat(target).doesNotExist();

    json(run("-o", "json", "resume", j.transferId(), "--retry-delay", "5"));
    assertThat(Files.mismatch(src, target)).isEqualTo(-1L);
    assertThat(dir.resolve("k9-down-back.img.part")).doesNotExist();
    assertThat(journals()).isEmpty();
    assertSettled(disk);
  }
}
