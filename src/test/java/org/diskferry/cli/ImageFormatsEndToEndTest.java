package org.diskferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.diskferry.cli.SandboxFixture.Result;
import org.diskferry.http.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** qcow2 sources made by qemu-img, uploaded as guest data and checked byte for byte. */
class ImageFormatsEndToEndTest {

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

  static void qemuImg(String... args) throws IOException, InterruptedException {
    List<String> cmd = new java.util.ArrayList<>(List.of("qemu-img"));
    cmd.addAll(List.of(args));
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    } catch (IOException e) {
      assumeTrue(false, "qemu-img is not installed");
      return;
    }
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
  }

  /** Random, text-like and zero 64 KiB blocks, so that compressed clusters are really stored. */
  static Path compressibleImage(Path file, int size, long seed) throws IOException {
    java.util.Random r = new java.util.Random(seed);
    byte[] data = new byte[size];
    for (int off = 0; off < size; off += 65536) {
      int n = Math.min(65536, size - off);
      switch (off / 65536 % 4) {
        case 0 -> {
          byte[] b = new byte[n];
          r.nextBytes(b);
          System.arraycopy(b, 0, data, off, n);
        }
        case 1, 2 -> {
          StringBuilder t = new StringBuilder();
          while (t.length() < n) {
            t.append("block ").append(off).append(" word ").append(r.nextInt(5000)).append('\n');
          }
          System.arraycopy(t.toString().getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0,
              data, off, n);
        }
        default -> { } // zeros
      }
    }
    Files.write(file, data);
    return file;
  }

  @ParameterizedTest(name = "{0}, {1}-byte clusters")
  @CsvSource({"zlib, 65536", "zstd, 65536", "zstd, 2097152"})
  void compressedQcow2UploadsAsGuestDataIntoACowDisk(String compression, int clusterSize)
      throws Exception {
    String name = "guest-" + compression + "-" + clusterSize;
    Path raw = compressibleImage(dir.resolve(name + ".raw"), (6 << 20) + 4096, clusterSize);
    Path qcow = dir.resolve(name + ".qcow2");
    qemuImg("convert", "-c", "-f", "raw", "-O", "qcow2", "-o",
        "compat=1.1,cluster_size=" + clusterSize + ",compression_type=" + compression,
        raw.toString(), qcow.toString());
    Result up = fx.run("-o", "json", "upload", qcow.toString(), "--workers", "3");
    assertThat(up.exit()).as(up.toString()).isZero();
    JsonNode j = Json.mapper().readTree(up.out());
    assertThat(j.get("bytes").asLong()).isEqualTo(Files.size(raw));
    String disk = j.get("disk_id").asText();

    JsonNode listed = Json.mapper().readTree(fx.run("-o", "json", "list").out());
    for (JsonNode d : listed) {
      if (d.get("id").asText().equals(disk)) {
        assertThat(d.get("format").asText()).isEqualTo("cow");
        assertThat(d.get("name").asText()).isEqualTo(name);
      }
    }
    Path back = dir.resolve(name + "-back.raw");
    Result down = fx.run("download", disk, back.toString());
    assertThat(down.exit()).as(down.toString()).isZero();
    assertThat(Files.mismatch(raw, back)).isEqualTo(-1L);
    qemuImg("compare", "-f", "qcow2", "-F", "raw", qcow.toString(), back.toString());
  }

  @Test
  void verifyComparesTheServersBlkhashWithTheLocalOne() throws Exception {
    Path raw = SandboxFixture.image(dir.resolve("verify.raw"), (5 << 20) + 512, 7, true);
    Path qcow = dir.resolve("verify.qcow2");
    qemuImg("convert", "-f", "raw", "-O", "qcow2", raw.toString(), qcow.toString());
    Result up = fx.run("-o", "json", "upload", qcow.toString(), "--verify", "--name", "verified");
    assertThat(up.exit()).as(up.toString()).isZero();
    JsonNode j = Json.mapper().readTree(up.out());
    JsonNode c = j.get("checksum");
    assertThat(c.get("algorithm").asText()).isEqualTo("blake2b");
    assertThat(c.get("block_size").asInt()).isEqualTo(4 << 20);
    assertThat(c.get("checksum").asText()).matches("[0-9a-f]{64}");

    Path back = dir.resolve("verify-back.raw");
    Result down =
        fx.run("-o", "json", "download", j.get("disk_id").asText(), back.toString(), "--verify");
    assertThat(down.exit()).as(down.toString()).isZero();
    // The same disk, hashed by the server twice and locally from two different files.
    assertThat(Json.mapper().readTree(down.out()).get("checksum").get("checksum").asText())
        .isEqualTo(c.get("checksum").asText());
    assertThat(Files.mismatch(raw, back)).isEqualTo(-1L);
  }

  @Test
  void aChecksumMismatchFailsTheUploadAndRemovesTheDisk() throws Exception {
    Path raw = SandboxFixture.image(dir.resolve("bad.raw"), 2 << 20, 8, false);
    try (SandboxFixture own = new SandboxFixture(dir.resolve("mismatch"))) {
      Path disks = own.sandbox.dataDir().resolve("disks");
      // Corrupts the stored disk just before the server computes its checksum.
      own.sandbox.setFaultHook(
          r -> {
            if (r.path().endsWith("/checksum")) {
              try (var files = Files.newDirectoryStream(disks, "*.img")) {
                files.forEach(ImageFormatsEndToEndTest::corrupt);
              } catch (IOException e) {
                throw new java.io.UncheckedIOException(e);
              }
            }
            return null;
          });
      Result up = own.run("upload", raw.toString(), "--verify", "--name", "corrupted");
      assertThat(up.exit()).as(up.toString()).isEqualTo(1);
      assertThat(up.err()).contains("checksum mismatch").contains("local blake2b");
      own.sandbox.setFaultHook(null);
      assertThat(own.run("-o", "json", "list").out()).doesNotContain("\"corrupted\"");
    }
  }

  private static void corrupt(Path f) {
    try (java.nio.channels.FileChannel ch =
        java.nio.channels.FileChannel.open(f, java.nio.file.StandardOpenOption.WRITE)) {
      ch.write(java.nio.ByteBuffer.wrap(new byte[] {1, 2, 3}), 0);
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  @Test
  void qcow2WithABackingFileIsRefusedBeforeAnythingIsCreated() throws Exception {
    Path base = dir.resolve("base.qcow2");
    qemuImg("create", "-f", "qcow2", base.toString(), "4M");
    Path top = dir.resolve("top.qcow2");
    qemuImg("create", "-f", "qcow2", "-b", base.toString(), "-F", "qcow2", top.toString());
    int before = Json.mapper().readTree(fx.run("-o", "json", "list").out()).size();
    Result up = fx.run("upload", top.toString());
    assertThat(up.exit()).as(up.toString()).isEqualTo(2);
    assertThat(up.err()).contains("backing file").contains("qemu-img convert");
    assertThat(Json.mapper().readTree(fx.run("-o", "json", "list").out()).size()).isEqualTo(before);
  }
}
