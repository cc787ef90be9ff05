package org.diskferry.image;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** Runs qemu-img, qemu-io and python3 for tests; skips the test when a tool is missing. */
final class Tools {
  private Tools() {}

  private static Boolean qemu;
  private static Boolean python;

  static synchronized void assumeQemu() {
    if (qemu == null) {
      qemu = works("qemu-img", "--version") && works("qemu-io", "--version");
    }
    assumeTrue(qemu, "qemu-img/qemu-io not installed (apt-get install qemu-utils)");
  }

  private static Boolean qemuZstd;

  /**
   * qemu-img that makes zstd-compressed qcow2 images: skips the test without it, or fails it when
   * the {@code CI} environment variable is set (CI installs qemu-utils).
   */
  static synchronized void assumeQemuZstd() {
    if (qemuZstd == null) {
      qemuZstd = false;
      try {
        Path probe = java.nio.file.Files.createTempFile("zstd-probe", ".qcow2");
        try {
          qemuZstd = works("qemu-io", "--version")
              && works("qemu-img", "create", "-f", "qcow2", "-o", "compression_type=zstd",
                  probe.toString(), "1M");
        } finally {
          java.nio.file.Files.deleteIfExists(probe);
        }
      } catch (IOException e) {
        qemuZstd = false;
      }
    }
    String why = "qemu-img/qemu-io with zstd support not installed (apt-get install qemu-utils)";
    if (!qemuZstd && System.getenv("CI") != null) {
      fail(why);
    }
    assumeTrue(qemuZstd, why);
  }

  static synchronized void assumePython() {
    if (python == null) {
      python = works("python3", "-c", "import hashlib; hashlib.blake2b(digest_size=32)");
    }
    assumeTrue(python, "python3 with hashlib not available");
  }

  private static boolean works(String... cmd) {
    try {
      Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  /** Runs a command; returns stdout; fails the test on a non-zero exit. */
  static String run(String... cmd) throws IOException, InterruptedException {
    Process p = new ProcessBuilder(cmd).start();
    p.getOutputStream().close();
    byte[][] err = new byte[1][];
    Thread t = new Thread(() -> {
      try {
        err[0] = p.getErrorStream().readAllBytes();
      } catch (IOException e) {
        err[0] = new byte[0];
      }
    });
    t.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(300, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("timed out: " + Arrays.toString(cmd));
    }
    t.join();
    if (p.exitValue() != 0) {
      throw new IOException(
          "failed (" + p.exitValue() + "): " + String.join(" ", cmd) + "\n"
              + new String(err[0], StandardCharsets.UTF_8) + out);
    }
    return out;
  }

  static void qemuImg(String... args) throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>();
    cmd.add("qemu-img");
    cmd.addAll(Arrays.asList(args));
    run(cmd.toArray(new String[0]));
  }

  /** qemu-io -f FMT with one -c per command. */
  static void qemuIo(Path image, String format, String... commands)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", format));
    for (String c : commands) {
      cmd.add("-c");
      cmd.add(c);
    }
    cmd.add(image.toString());
    String out = run(cmd.toArray(new String[0]));
    if (out.contains("error") || out.contains("failed")) {
      throw new IOException("qemu-io: " + out);
    }
  }

  /** qemu-img convert -O raw SRC DST. */
  static Path toRaw(Path src, Path dir) throws IOException, InterruptedException {
    Path raw = dir.resolve(src.getFileName() + ".raw");
    qemuImg("convert", "-O", "raw", src.toString(), raw.toString());
    return raw;
  }
}
