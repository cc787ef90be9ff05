package org.diskferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.diskferry.http.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The largest --buffer-size with the most workers, in a JVM with the heap the launcher gives a
 * transfer (bin/diskferry: -Xmx128m, SerialGC, an 80 MiB start and a 48 MiB young generation):
 * it used to end in OutOfMemoryError (okio's copy of each 64 MiB body on the heap, then 64 MiB of
 * direct memory per worker).
 */
class BufferMemoryTest {

  /** What bin/diskferry gives upload, download and resume. */
  static final List<String> LAUNCHER_HEAP =
      List.of("-XX:+UseSerialGC", "-Xmx128m", "-Xms80m", "-Xmn48m");

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

  @Test
  void buffersOf64MiBWith16WorkersFitTheLaunchersHeap() throws Exception {
    // Two full 64 MiB ranges of data (no zero blocks to skip): two bodies of 64 MiB at once.
    Path src = dir.resolve("full.img");
    byte[] block = new byte[1 << 20];
    Arrays.fill(block, (byte) 0x5a);
    try (OutputStream out = Files.newOutputStream(src)) {
      for (int i = 0; i < 128; i++) {
        block[i] = (byte) i; // not all one value, still no zeros
        out.write(block);
      }
    }
    Path err = dir.resolve("upload.err");
    Process p = CliProcess.start(LAUNCHER_HEAP, fx.env(), err, "-o", "json", "upload",
        src.toString(), "--name", "big-buffers", "--buffer-size", "64M", "--workers", "16",
        "--verify");
    assertThat(p.waitFor(240, TimeUnit.SECONDS)).as("upload finished").isTrue();
    String stderr = Files.readString(err, StandardCharsets.UTF_8);
    String stdout = Files.readString(err.resolveSibling("upload.err.out"), StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(stderr).isZero();
    assertThat(stderr).doesNotContain("OutOfMemoryError").doesNotContain("\tat ");
    assertThat(stderr).contains("--buffer-size 64 MiB for ").contains(" MiB each");
    var result = Json.mapper().readTree(stdout);
    assertThat(result.get("bytes").asLong()).isEqualTo(128L << 20);
    assertThat(result.get("checksum").get("verified").asBoolean()).isTrue();
  }
}
