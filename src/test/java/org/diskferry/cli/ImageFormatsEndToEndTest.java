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

  @Test
  void compressedQcow2UploadsAsGuestDataIntoACowDisk() throws Exception {
    Path raw = SandboxFixture.image(dir.resolve("guest.raw"), (6 << 20) + 4096, 1, true);
    Path qcow = dir.resolve("guest.qcow2");
    qemuImg("convert", "-c", "-f", "raw", "-O", "qcow2", "-o", "compat=1.1,cluster_size=65536",
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
        assertThat(d.get("name").asText()).isEqualTo("guest");
      }
    }
    Path back = dir.resolve("guest-back.raw");
    Result down = fx.run("download", disk, back.toString());
    assertThat(down.exit()).as(down.toString()).isZero();
    assertThat(Files.mismatch(raw, back)).isEqualTo(-1L);
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
