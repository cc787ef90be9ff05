package org.diskferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.diskferry.cli.SandboxFixture.Result;
import org.diskferry.http.Json;
import org.diskferry.transfer.JournalStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Faults of the local machine during a download (a full file system), on a real file system that
 * runs out of space: a tmpfs of a few MiB, mounted when the tests run as root in CI.
 */
class LocalFaultsTest {

  @TempDir static Path dir;
  static SandboxFixture fx;
  static Path small;

  @BeforeAll
  static void start() throws Exception {
    fx = new SandboxFixture(dir);
    small = dir.resolve("small-fs");
    Files.createDirectories(small);
    assumeTrue("true".equals(System.getenv("CI")) && "root".equals(System.getProperty("user.name")),
        "a full file system needs a tmpfs mount: runs as root with CI=true");
    assertThat(run("mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", small.toString()))
        .as("mount a 4 MiB tmpfs").isZero();
  }

  @AfterAll
  static void stop() throws Exception {
    if (fx != null) {
      fx.close();
    }
    if (small != null && Files.exists(small)) {
      run("umount", small.toString());
    }
  }

  private static int run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      return -1;
    }
    return p.exitValue();
  }

  @Test
  void aFullFileSystemFailsTheDownloadAtOnceAndLeavesNothingBehind() throws IOException {
    Path src = SandboxFixture.image(dir.resolve("big.img"), 16 << 20, 11, false);
    Result up = fx.run("-o", "json", "upload", src.toString(), "--name", "enospc");
    assertThat(up.exit()).as(up.toString()).isZero();
    String disk = Json.mapper().readTree(up.out()).get("disk_id").asText();

    Path target = small.resolve("back.img");
    long started = System.nanoTime();
    Result r = fx.run("download", disk, target.toString(), "--retry-delay", "200");
    double seconds = (System.nanoTime() - started) / 1e9;

    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    List<String> errors = r.err().lines().filter(l -> l.startsWith("diskferry: error:")).toList();
    assertThat(errors).as(r.toString()).hasSize(1);
    assertThat(errors.get(0))
        .startsWith("diskferry: error: cannot write " + target + ".part: No space left on device")
        .contains("the download needs 16.0 MiB there")
        .contains("removed the partial file")
        .contains("was finalized")
        .doesNotContain("ticket");
    // Never retried as if the network had failed.
    assertThat(r.err()).doesNotContain("retry").doesNotContain("resume");
    assertThat(seconds).isLessThan(20);
    assertThat(target).doesNotExist();
    assertThat(small.resolve("back.img.part")).doesNotExist();
    assertThat(JournalStore.fromEnvironment(fx.env()).list()).isEmpty();
    // Finalized: the disk is not left locked.
    assertThat(fx.sandbox.diskStatus(disk)).contains("ok");

    // With the space there, the same command works.
    Path roomy = dir.resolve("back.img");
    Result again = fx.run("download", disk, roomy.toString());
    assertThat(again.exit()).as(again.toString()).isZero();
    assertThat(Files.mismatch(src, roomy)).isEqualTo(-1L);
  }
}
