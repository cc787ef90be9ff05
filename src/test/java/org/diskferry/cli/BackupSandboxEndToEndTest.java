package org.diskferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.stream.Stream;
import okhttp3.Credentials;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.diskferry.cli.SandboxFixture.Result;
import org.diskferry.http.HttpClientFactory;
import org.diskferry.http.Json;
import org.diskferry.http.TlsOptions;
import org.diskferry.sandbox.Sandbox;
import org.diskferry.sandbox.SandboxConfig;
import org.diskferry.sandbox.VmSpec;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code diskferry backup} against the built-in sandbox (no ../shared needed): a full backup, guest
 * writes, an incremental one over it, each point in time compared with what the guest wrote; a
 * raw disk; backup list and verify; an unknown VM.
 */
class BackupSandboxEndToEndTest {

  @TempDir static Path dir;
  static SandboxFixture fx;
  static OkHttpClient http;
  static final int SIZE = 16 << 20;

  @BeforeAll
  static void start() throws IOException {
    Sandbox sb = Sandbox.start(SandboxConfig.defaults()
        .withDataDir(dir.resolve("sandbox"))
        .withTick(Duration.ofMillis(20))
        .withDiskReadyDelay(Duration.ofMillis(50))
        .withVms(List.of(VmSpec.parse("web:16M"), VmSpec.parse("db:raw:8M"))));
    fx = new SandboxFixture(dir, sb);
    http = HttpClientFactory.create(TlsOptions.caFile(sb.caFile()), null);
  }

  @AfterAll
  static void stop() {
    fx.close();
  }

  /** Writes into a VM's disk as its guest would, and into {@code expected} at the same place. */
  static void guestWrite(String vm, String disk, long offset, byte[] data, byte[] expected)
      throws IOException {
    Request r = new Request.Builder()
        .url(fx.sandbox.engineUrl() + "/sandbox/vms/" + fx.sandbox.vmId(vm).orElseThrow()
            + "/disks/" + disk + "/guest")
        .header("Authorization",
            Credentials.basic(fx.sandbox.username(), fx.sandbox.password()))
        .header("Content-Range", "bytes " + offset + "-" + (offset + data.length - 1) + "/*")
        .put(RequestBody.create(data, MediaType.get("application/octet-stream")))
        .build();
    try (Response resp = http.newCall(r).execute()) {
      assertThat(resp.code()).isEqualTo(200);
    }
    System.arraycopy(data, 0, expected, (int) offset, data.length);
  }

  static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** The newest backup folder of a VM in the repository, as the repository orders them. */
  static Path newest(Path repo, String vm) throws IOException {
    try (Stream<Path> vms = Files.list(repo)) {
      Path vmDir = vms.filter(p -> p.getFileName().toString().startsWith(vm + "-")).findFirst()
          .orElseThrow();
      List<org.diskferry.backup.Repository.Entry> all =
          new org.diskferry.backup.Repository(repo).backups(vmDir);
      return all.get(all.size() - 1).dir();
    }
  }

  static void sameAs(byte[] expected, Path qcow2) throws Exception {
    Path raw = Files.createTempFile(dir, "expected", ".raw");
    Files.write(raw, expected);
    DownloadFormatsEndToEndTest.sh("qemu-img", "check", qcow2.toString());
    String out = DownloadFormatsEndToEndTest.sh(
        "qemu-img", "compare", "-f", "raw", "-F", "qcow2", raw.toString(), qcow2.toString());
    assertThat(out).contains("Images are identical");
  }

  @Test
  void fullThenIncrementalGiveEveryPointInTime() throws Exception {
    Path repo = dir.resolve("repo");
    String disk = fx.sandbox.vmDiskIds("web").get(0);
    byte[] expected = new byte[SIZE];
    guestWrite("web", disk, 0, random(1 << 20, 1), expected);
    byte[] atFull = expected.clone();

    Result full = fx.run("-o", "json", "backup", "web", "--repo", repo.toString());
    assertThat(full.exit()).as(full.toString()).isZero();
    JsonNode f = Json.mapper().readTree(full.out());
    assertThat(f.toString()).contains("\"full\"");
    Path first = newest(repo, "web");

    guestWrite("web", disk, 4 << 20, random(128 << 10, 2), expected);
    guestWrite("web", disk, 0, new byte[64 << 10], expected); // zeros over data
    Result inc = fx.run("-o", "json", "backup", "web", "--repo", repo.toString());
    assertThat(inc.exit()).as(inc.toString()).isZero();
    assertThat(inc.out()).contains("\"incremental\"");
    Path second = newest(repo, "web");
    assertThat(second).isNotEqualTo(first);

    Path top = second.resolve(disk + ".qcow2");
    String info = DownloadFormatsEndToEndTest.sh(
        "qemu-img", "info", "--backing-chain", top.toString());
    assertThat(info).contains("backing file: ../" + first.getFileName() + "/" + disk + ".qcow2");
    // The incremental file holds only what changed: far less than the full one.
    assertThat(Files.size(top)).isLessThan(Files.size(first.resolve(disk + ".qcow2")));
    sameAs(atFull, first.resolve(disk + ".qcow2"));
    sameAs(expected, top);

    Result list = fx.run("backup", "list", "web", "--repo", repo.toString());
    assertThat(list.exit()).as(list.toString()).isZero();
    assertThat(list.out()).contains("full").contains("incremental").contains("succeeded");
    Result verify = fx.run("backup", "verify", second.toString());
    assertThat(verify.exit()).as(verify.toString()).isZero();

    // A chain with a file cut short is not whole.
    try (RandomAccessFile cut = new RandomAccessFile(first.resolve(disk + ".qcow2").toFile(), "rw")) {
      cut.setLength(cut.length() / 2);
    }
    Result broken = fx.run("backup", "verify", second.toString());
    assertThat(broken.exit()).as(broken.toString()).isEqualTo(1);
    assertThat(broken.err()).startsWith("diskferry: error: ");
  }

  @Test
  void aRawDiskIsAlwaysBackedUpWhole() throws Exception {
    Path repo = dir.resolve("raw-repo");
    String disk = fx.sandbox.vmDiskIds("db").get(0);
    byte[] expected = new byte[8 << 20];
    guestWrite("db", disk, 1 << 20, random(256 << 10, 3), expected);
    for (int i = 0; i < 2; i++) {
      Result r = fx.run("backup", "db", "--repo", repo.toString());
      assertThat(r.exit()).as(r.toString()).isZero();
      Path b = newest(repo, "db");
      String info = DownloadFormatsEndToEndTest.sh(
          "qemu-img", "info", b.resolve(disk + ".qcow2").toString());
      assertThat(info).doesNotContain("backing file");
      sameAs(expected, b.resolve(disk + ".qcow2"));
    }
  }

  @Test
  void anUnknownVmIsNotFound() {
    Result r = fx.run("backup", "no-such-vm", "--repo", dir.resolve("r4").toString());
    assertThat(r.exit()).as(r.toString()).isEqualTo(4);
    assertThat(r.err().lines().filter(l -> l.startsWith("diskferry: error: ")).toList())
        .singleElement().asString().contains("no-such-vm");
  }
}
