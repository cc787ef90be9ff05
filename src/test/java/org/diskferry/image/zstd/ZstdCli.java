package org.diskferry.image.zstd;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Runs the {@code zstd} command for tests: skips the test when it is missing, or fails it when the
 * {@code CI} environment variable is set (CI installs it).
 */
final class ZstdCli {
  private ZstdCli() {}

  private static Boolean present;

  static synchronized void assumeZstd() {
    if (present == null) {
      try {
        Process p = new ProcessBuilder("zstd", "--version").redirectErrorStream(true).start();
        p.getInputStream().readAllBytes();
        present = p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
      } catch (IOException e) {
        present = false;
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        present = false;
      }
    }
    String why = "the zstd command is not installed (apt-get install zstd)";
    if (!present && System.getenv("CI") != null) {
      fail(why);
    }
    assumeTrue(present, why);
  }

  /** {@code zstd ARGS -c} of {@code data}: the compressed bytes. */
  static byte[] compress(Path dir, byte[] data, String... args)
      throws IOException, InterruptedException {
    Path in = Files.createTempFile(dir, "in", ".bin");
    Path out = Files.createTempFile(dir, "out", ".zst");
    Files.write(in, data);
    List<String> cmd = new ArrayList<>(List.of("zstd", "-q", "-f", "-c"));
    cmd.addAll(List.of(args));
    cmd.add(in.toString());
    Process p = new ProcessBuilder(cmd).redirectOutput(out.toFile())
        .redirectError(ProcessBuilder.Redirect.PIPE).start();
    String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("zstd failed: " + cmd + "\n" + err);
    }
    byte[] z = Files.readAllBytes(out);
    Files.delete(in);
    Files.delete(out);
    return z;
  }
}
