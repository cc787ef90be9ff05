package org.diskferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.diskferry.cli.SandboxFixture.Result;
import org.diskferry.http.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** The real commands, in-process, against the sandbox over real TLS sockets. */
class EndToEndTest {

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

  static JsonNode json(String s) throws IOException {
    return Json.mapper().readTree(s);
  }

  private static String upload(Path image, String... extra) throws IOException {
    String[] args = new String[extra.length + 4];
    args[0] = "-o";
    args[1] = "json";
    args[2] = "upload";
    args[3] = image.toString();
    System.arraycopy(extra, 0, args, 4, extra.length);
    Result r = fx.run(args);
    assertThat(r.exit()).as(r.toString()).isZero();
    JsonNode j = json(r.out());
    assertThat(j.get("command").asText()).isEqualTo("upload");
    assertThat(j.get("phase").asText()).isEqualTo("finished_success");
    return j.get("disk_id").asText();
  }

  @ParameterizedTest
  @ValueSource(ints = {1, 8})
  void uploadThenDownloadGivesIdenticalBytes(int workers) throws IOException {
    // Not a multiple of the range or buffer size, with zero blocks in the middle.
    Path src = SandboxFixture.image(dir.resolve("src-" + workers + ".img"), (5 << 20) + 12345, workers, true);
    String disk =
        upload(
            src,
            "--workers", String.valueOf(workers),
            "--range-size", "1M",
            "--buffer-size", "256K",
            "--name", "e2e-" + workers);
    assertThat(fx.sandbox.diskStatus(disk)).contains("ok");

    Path back = dir.resolve("back-" + workers + ".img");
    Result r =
        fx.run("download", disk, back.toString(), "--workers", String.valueOf(workers),
            "--range-size", "1M", "--buffer-size", "256K");
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out()).contains("downloaded disk " + disk);
    assertThat(Files.mismatch(src, back)).isEqualTo(-1L);
    assertThat(dir.resolve("back-" + workers + ".img.part")).doesNotExist();
    assertThat(fx.sandbox.diskStatus(disk)).contains("ok");
  }

  @Test
  void zeroBlocksAreNotSentAsData() throws IOException {
    Path src = SandboxFixture.image(dir.resolve("zeros.img"), 4 << 20, 7, true);
    Result r =
        fx.run("-o", "json", "upload", src.toString(), "--buffer-size", "64K", "--name", "zeros");
    assertThat(r.exit()).as(r.toString()).isZero();
    JsonNode j = json(r.out());
    assertThat(j.get("bytes").asLong()).isEqualTo(4 << 20);
    // Two blocks in five are zeros: only the rest crosses the wire.
    assertThat(j.get("bytes_sent").asLong()).isLessThan((4L << 20) * 7 / 10);
    Path back = dir.resolve("zeros-back.img");
    assertThat(fx.run("download", j.get("disk_id").asText(), back.toString()).exit()).isZero();
    assertThat(Files.mismatch(src, back)).isEqualTo(-1L);
  }

  @Test
  void downloadByNameAndJsonResult() throws IOException {
    Path src = SandboxFixture.image(dir.resolve("named.img"), 1 << 20, 3, false);
    String disk = upload(src, "--name", "by-name-disk");
    Path back = dir.resolve("named-back.img");
    Result r = fx.run("-o", "json", "download", "by-name-disk", back.toString());
    assertThat(r.exit()).as(r.toString()).isZero();
    JsonNode j = json(r.out());
    assertThat(j.get("disk_id").asText()).isEqualTo(disk);
    assertThat(j.get("bytes").asLong()).isEqualTo(1 << 20);
    assertThat(Files.mismatch(src, back)).isEqualTo(-1L);
    // JSON Lines progress on stderr.
    assertThat(r.err().lines().filter(l -> !l.isBlank()))
        .allSatisfy(l -> assertThat(json(l).has("event")).isTrue());
  }

  @Test
  void fillsAnExistingDiskWithDiskId() throws IOException {
    Path first = SandboxFixture.image(dir.resolve("first.img"), 2 << 20, 11, false);
    String disk = upload(first, "--name", "existing");
    Path second = SandboxFixture.image(dir.resolve("second.img"), 2 << 20, 12, true);
    String again = upload(second, "--disk-id", disk);
    assertThat(again).isEqualTo(disk);
    Path back = dir.resolve("existing-back.img");
    assertThat(fx.run("download", disk, back.toString()).exit()).isZero();
    // The zero blocks of the second image overwrote the first image's data.
    assertThat(Files.mismatch(second, back)).isEqualTo(-1L);
  }

  @Test
  void imageLargerThanTheDiskIsRefusedAndLeavesTheDiskUsable() throws IOException {
    Path small = SandboxFixture.image(dir.resolve("small.img"), 1 << 20, 21, false);
    String disk = upload(small, "--name", "small");
    Path big = SandboxFixture.image(dir.resolve("big.img"), 2 << 20, 22, false);
    Result r = fx.run("upload", big.toString(), "--disk-id", disk);
    assertThat(r.exit()).as(r.toString()).isEqualTo(2);
    assertThat(r.err()).contains("larger than disk " + disk).doesNotContain("\tat ");
    assertThat(fx.sandbox.diskStatus(disk)).contains("ok");
  }

  @Test
  void downloadDoesNotOverwriteWithoutForce() throws IOException {
    Path src = SandboxFixture.image(dir.resolve("keep.img"), 1 << 20, 31, false);
    String disk = upload(src, "--name", "keep");
    Path existing = dir.resolve("existing.img");
    Files.writeString(existing, "precious");
    Result r = fx.run("download", disk, existing.toString());
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("already exists").contains("--force");
    assertThat(Files.readString(existing)).isEqualTo("precious");
    Result forced = fx.run("download", disk, existing.toString(), "--force");
    assertThat(forced.exit()).as(forced.toString()).isZero();
    assertThat(Files.mismatch(src, existing)).isEqualTo(-1L);
  }

  @Test
  void badSourcesAreUsageErrors() throws IOException {
    Result missing = fx.run("upload", dir.resolve("nope.img").toString());
    assertThat(missing.exit()).isEqualTo(2);
    assertThat(missing.err()).startsWith("diskferry: error: ").contains("no such file");
    assertThat(missing.err().lines().count()).isEqualTo(1);

    Result directory = fx.run("upload", dir.toString());
    assertThat(directory.exit()).isEqualTo(2);
    assertThat(directory.err()).contains("is a directory");

    Path vmdk = dir.resolve("image.vmdk");
    byte[] head = new byte[4096];
    head[0] = 'K';
    head[1] = 'D';
    head[2] = 'M';
    head[3] = 'V';
    Files.write(vmdk, head);
    Result q = fx.run("upload", vmdk.toString());
    assertThat(q.exit()).isEqualTo(2);
    assertThat(q.err()).contains("vmdk").contains("qemu-img convert");

    Result workers = fx.run("upload", vmdk.toString(), "--workers", "17");
    assertThat(workers.exit()).isEqualTo(2);
  }

  @Test
  void unknownThingsAreNotFound() throws IOException {
    Path src = SandboxFixture.image(dir.resolve("nf.img"), 1 << 20, 41, false);
    int disksBefore = diskCount();
    Result sd = fx.run("upload", src.toString(), "-s", "no-such-domain");
    assertThat(sd.exit()).as(sd.toString()).isEqualTo(4);
    assertThat(sd.err()).contains("no-such-domain");
    assertThat(diskCount()).isEqualTo(disksBefore);

    Result disk = fx.run("download", "no-such-disk", dir.resolve("nf-back.img").toString());
    assertThat(disk.exit()).isEqualTo(4);
    Result byId =
        fx.run("download", "00000000-0000-0000-0000-000000000000", dir.resolve("x").toString());
    assertThat(byId.exit()).isEqualTo(4);
    assertThat(dir.resolve("x")).doesNotExist();
    assertThat(dir.resolve("x.part")).doesNotExist();

    Result transfer = fx.run("status", "00000000-0000-0000-0000-000000000001");
    assertThat(transfer.exit()).isEqualTo(4);
    Result cancel = fx.run("cancel", "00000000-0000-0000-0000-000000000001");
    assertThat(cancel.exit()).isEqualTo(4);
  }

  private int diskCount() throws IOException {
    Result r = fx.run("-o", "json", "list");
    assertThat(r.exit()).as(r.toString()).isZero();
    return json(r.out()).size();
  }

  @Test
  void wrongPasswordIsAnAuthError() {
    Map<String, String> env = new HashMap<>(fx.env());
    env.put("DISKFERRY_PASSWORD", "wrong");
    Result r = fx.run(env, "list");
    assertThat(r.exit()).isEqualTo(3);
    assertThat(r.err()).contains("login").doesNotContain("wrong");
  }

  @Test
  void untrustedCertificateSaysToUseCafile() {
    Map<String, String> env = new HashMap<>(fx.env());
    env.remove("DISKFERRY_CAFILE");
    Result r = fx.run(env, "list");
    assertThat(r.exit()).isEqualTo(3);
    assertThat(r.err()).contains("--cafile").contains("pki-resource");
    Result insecure = fx.run(env, "--insecure", "list");
    assertThat(insecure.exit()).as(insecure.toString()).isZero();
    assertThat(insecure.err()).contains("warning").contains("--insecure");
  }

  @Test
  void unreachableEngineIsAClearError() {
    Map<String, String> env = new HashMap<>(fx.env());
    env.put("DISKFERRY_ENGINE_URL", "https://127.0.0.1:1");
    Result r = fx.run(env, "list");
    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.err()).contains("cannot reach the engine");
  }

  @Test
  void missingEngineSettingsAreUsageErrors() {
    Map<String, String> env = new HashMap<>();
    env.put("HOME", dir.resolve("empty-home").toString());
    Result r = fx.run(env, "list");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains("--engine-url");
  }

  @Test
  void usageErrorsExitTwo() {
    assertThat(fx.run("upload").exit()).isEqualTo(2);
    assertThat(fx.run("frobnicate").exit()).isEqualTo(2);
    assertThat(fx.run().exit()).isEqualTo(2);
    Result version = fx.run("--version");
    assertThat(version.exit()).isZero();
    assertThat(version.out()).startsWith("diskferry ");
  }

  @Test
  void anUploadLeavesOneOfTheServersConnectionsToItsCheckpointFlush() throws IOException {
    Path src = SandboxFixture.image(dir.resolve("wide.img"), 4 << 20, 21, false);
    Result up = fx.run("-o", "json", "upload", src.toString(), "--name", "wide", "--workers", "16",
        "--range-size", "256K");
    assertThat(up.exit()).as(up.toString()).isZero();
    // The sandbox offers 8 connections: 7 workers and one for the journal's flushes.
    assertThat(json(up.out()).get("workers").asInt()).isEqualTo(7);
    String disk = json(up.out()).get("disk_id").asText();
    Path back = dir.resolve("wide.back");
    Result down = fx.run("-o", "json", "download", disk, back.toString(), "--workers", "16",
        "--range-size", "256K");
    assertThat(down.exit()).as(down.toString()).isZero();
    // A download's checkpoints are local fsyncs: every connection moves data.
    assertThat(json(down.out()).get("workers").asInt()).isEqualTo(8);
    assertThat(Files.mismatch(src, back)).isEqualTo(-1);
  }
}
