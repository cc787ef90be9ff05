package org.diskferry.glance;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A real Glance for integration tests, started with the project's {@code glance-local.sh} on
 * 127.0.0.1 and a free port, with its state under {@code target/}. Stop it with {@link #close()}.
 *
 * <p>The script is {@code ../shared/tools/glance-local.sh} beside the project (the failsafe
 * property {@code diskferry.glance.script}), or {@code $DISKFERRY_GLANCE_LOCAL}.
 */
public final class GlanceLocal implements AutoCloseable {

  private final Path script;
  private final Path dir;
  private final Map<String, String> env;
  /** The Glance URL, e.g. {@code http://127.0.0.1:PORT}. */
  public final String endpoint;

  private GlanceLocal(Path script, Path dir, Map<String, String> env, String endpoint) {
    this.script = script;
    this.dir = dir;
    this.env = env;
    this.endpoint = endpoint;
  }

  static Path script() {
    String override = System.getenv("DISKFERRY_GLANCE_LOCAL");
    String prop = System.getProperty("diskferry.glance.script");
    Path p = override != null && !override.isBlank() ? Path.of(override)
        : prop != null ? Path.of(prop) : Path.of("..", "shared", "tools", "glance-local.sh");
    if (!Files.isRegularFile(p)) {
      throw new IllegalStateException(
          "the Glance integration tests need glance-local.sh, not found at " + p.toAbsolutePath()
              + "; put ../shared beside the project or set DISKFERRY_GLANCE_LOCAL");
    }
    return p;
  }

  /**
   * Starts a fresh Glance.
   *
   * @param name a directory name under {@code target/glance-it/}
   * @param sizeCap image_size_cap in bytes, or 0 for the script's default
   */
  public static GlanceLocal start(String name, long sizeCap) throws IOException, InterruptedException {
    Path script = script();
    Path dir = Path.of("target", "glance-it", name).toAbsolutePath();
    Files.createDirectories(dir.getParent());
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Map<String, String> env = new java.util.HashMap<>();
    env.put("GLANCE_LOCAL_DIR", dir.toString());
    env.put("GLANCE_LOCAL_PORT", String.valueOf(port));
    env.put("GLANCE_LOCAL_FRESH", "1");
    if (sizeCap > 0) {
      env.put("GLANCE_LOCAL_SIZE_CAP", String.valueOf(sizeCap));
    }
    String out = run(script, env, "start");
    String endpoint = null;
    for (String line : out.split("\n")) {
      if (line.startsWith("GLANCE_ENDPOINT=")) {
        endpoint = line.substring("GLANCE_ENDPOINT=".length()).trim();
      }
    }
    if (endpoint == null) {
      throw new IllegalStateException("glance-local.sh printed no GLANCE_ENDPOINT: " + out);
    }
    return new GlanceLocal(script, dir, env, endpoint);
  }

  private static String run(Path script, Map<String, String> env, String what)
      throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder("bash", script.toString(), what);
    pb.environment().putAll(env);
    Path log = Path.of(env.get("GLANCE_LOCAL_DIR") + "-" + what + ".log");
    pb.redirectError(log.toFile());
    Process p = pb.start();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(300, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("glance-local.sh " + what + " took over 5 minutes");
    }
    if (p.exitValue() != 0) {
      throw new IllegalStateException("glance-local.sh " + what + " failed (exit " + p.exitValue()
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
      Map<String, String> e = new java.util.HashMap<>(env);
      e.put("GLANCE_LOCAL_PURGE", "1");
      run(script, e, "stop");
    } catch (IOException | InterruptedException | IllegalStateException ex) {
      System.err.println("stopping glance in " + dir + ": " + ex.getMessage());
    }
  }
}
