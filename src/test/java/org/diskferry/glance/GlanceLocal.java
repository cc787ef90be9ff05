package org.diskferry.glance;

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
 * A real Glance for integration tests: Debian's glance-api, started with the project's own
 * {@code scripts/glance-test-server.sh} on 127.0.0.1 and a free port, with its state under
 * {@code target/glance-it/}. Stop it with {@link #close()}.
 *
 * <p>Without glance-api the tests are skipped with a one-line reason, except in CI ({@code
 * CI=true}), where {@code .ci/run} installs it and they must run.
 */
public final class GlanceLocal implements AutoCloseable {

  private static final Path SCRIPT = Path.of("scripts", "glance-test-server.sh");

  private final Path dir;
  /** The Glance URL, e.g. {@code http://127.0.0.1:PORT}. */
  public final String endpoint;

  private GlanceLocal(Path dir, String endpoint) {
    this.dir = dir;
    this.endpoint = endpoint;
  }

  /** Skips the calling test (or class) without glance-api; fails it in CI. */
  public static void assumeInstalled() {
    if (Files.isExecutable(Path.of("/usr/bin/glance-api"))
        && Files.isExecutable(Path.of("/usr/bin/glance-manage"))) {
      return;
    }
    String why = "glance-api is not installed (sudo " + SCRIPT + " install)";
    if ("true".equals(System.getenv("CI"))) {
      fail(why + ", and CI must run the Glance tests (.ci/run installs it)");
    }
    assumeTrue(false, why + ": skipping the tests against a real Glance");
  }

  /**
   * Starts a fresh Glance.
   *
   * @param name a directory name under {@code target/glance-it/}
   * @param sizeCap image_size_cap in bytes, or 0 for the script's default
   */
  public static GlanceLocal start(String name, long sizeCap) throws IOException, InterruptedException {
    assumeInstalled();
    Path dir = Path.of("target", "glance-it", name).toAbsolutePath();
    Files.createDirectories(dir.getParent());
    List<String> args = new ArrayList<>(List.of("start", "--dir", dir.toString()));
    if (sizeCap > 0) {
      args.addAll(List.of("--size-cap", String.valueOf(sizeCap)));
    }
    String out = run(dir, args);
    for (String line : out.split("\n")) {
      if (line.startsWith("GLANCE_ENDPOINT=")) {
        return new GlanceLocal(dir, line.substring("GLANCE_ENDPOINT=".length()).trim());
      }
    }
    run(dir, List.of("stop", "--dir", dir.toString()));
    throw new IllegalStateException(SCRIPT + " printed no GLANCE_ENDPOINT: " + out);
  }

  private static String run(Path dir, List<String> args) throws IOException, InterruptedException {
    String what = args.get(0);
    List<String> cmd = new ArrayList<>(List.of("bash", SCRIPT.toString()));
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd);
    Path log = Path.of(dir + "-" + what + ".log");
    pb.redirectError(log.toFile());
    Process p = pb.start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(300, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException(SCRIPT + " " + what + " took over 5 minutes");
    }
    if (p.exitValue() != 0) {
      throw new IllegalStateException(SCRIPT + " " + what + " failed (exit " + p.exitValue()
          + "): " + Files.readString(log));
    }
    return new String(out, StandardCharsets.UTF_8);
  }

  /** A clouds.yaml entry (auth_type none) for this Glance or for a URL in front of it. */
  public static String cloud(String name, String url) {
    return "  " + name + ":\n    auth_type: none\n    image_endpoint_override: " + url + "\n";
  }

  @Override
  public void close() {
    try {
      run(dir, List.of("stop", "--dir", dir.toString(), "--purge"));
    } catch (IOException | InterruptedException | IllegalStateException ex) {
      System.err.println("stopping glance in " + dir + ": " + ex.getMessage());
    }
  }
}
