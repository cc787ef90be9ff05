package org.diskferry.cli;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.diskferry.http.HttpClientFactory;
import org.diskferry.http.TlsOptions;

/**
 * The real ovirt-imageio daemon behind mini-engine.py ({@code ../shared/tools/ovirt-local/}),
 * started on free loopback ports with its state under {@code target/}, and stopped by {@link
 * #close}. Tests that need it skip with one line when it is absent, and fail when {@code CI=true}.
 */
final class BackupOvirtLocal implements AutoCloseable {
  static final Path TOOL = Path.of("..", "shared", "tools", "ovirt-local", "ovirt-local.sh");

  final Path dir;
  final Map<String, String> env = new HashMap<>();
  private final OkHttpClient http;

  /** Skips the calling test (or fails it in CI) when ovirt-local is not beside the project. */
  static void assumeAvailable() {
    String why = "ovirt-local not found at " + TOOL.toAbsolutePath().normalize();
    if (!Files.isRegularFile(TOOL)) {
      if ("true".equals(System.getenv("CI"))) {
        fail(why);
      }
      assumeTrue(false, why);
    }
  }

  /** Skips the calling test (or fails it in CI) without qemu-img. */
  static void assumeQemuImg() {
    boolean ok;
    try {
      Process p = new ProcessBuilder("qemu-img", "--version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      ok = p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      ok = false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      ok = false;
    }
    String why = "qemu-img not installed (apt-get install qemu-utils)";
    if (!ok && "true".equals(System.getenv("CI"))) {
      fail(why);
    }
    assumeTrue(ok, why);
  }

  /**
   * Starts it with these mini-engine arguments (e.g. {@code --vm NAME:SIZE}) in {@code
   * target/ovirt-local/NAME}.
   */
  static BackupOvirtLocal start(String name, String... engineArgs)
      throws IOException, InterruptedException {
    assumeAvailable();
    Path dir = Path.of("target", "ovirt-local", name).toAbsolutePath();
    deleteTree(dir);
    Files.createDirectories(dir);
    List<String> cmd = new ArrayList<>(List.of("bash", TOOL.toString(), "start", "--data-dir",
        dir.resolve("data").toString(), "--env-file", dir.resolve("env").toString(), "--"));
    cmd.addAll(List.of(engineArgs));
    run(dir, cmd, "start");
    BackupOvirtLocal o = new BackupOvirtLocal(dir);
    for (String line : Files.readAllLines(dir.resolve("env"))) {
      int eq = line.indexOf('=');
      if (line.startsWith("DISKFERRY_") && eq > 0) {
        o.env.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    o.env.put("HOME", dir.resolve("home").toString());
    o.env.put("XDG_STATE_HOME", dir.resolve("state").toString());
    return o;
  }

  private BackupOvirtLocal(Path dir) {
    this.dir = dir;
    this.http =
        HttpClientFactory.create(new TlsOptions(dir.resolve("state/imageio/pki/ca.pem"), false), null);
  }

  private static void run(Path dir, List<String> cmd, String what)
      throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().put("MINI_OVIRT_DIR", dir.resolve("state").toString());
    Path log = dir.resolve(what + ".log");
    pb.redirectErrorStream(true).redirectOutput(log.toFile());
    Process p = pb.start();
    if (!p.waitFor(180, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("ovirt-local.sh " + what + " took over 3 minutes");
    }
    if (p.exitValue() != 0) {
      throw new IllegalStateException(
          "ovirt-local.sh " + what + " failed (exit " + p.exitValue() + "): "
              + Files.readString(log));
    }
  }

  String engineUrl() {
    return env.get("DISKFERRY_ENGINE_URL");
  }

  /** A request to the engine API with HTTP Basic auth; returns status and body. */
  String[] api(String method, String path, String json) throws IOException {
    String auth =
        java.util.Base64.getEncoder()
            .encodeToString(
                (env.get("DISKFERRY_USERNAME") + ":" + env.get("DISKFERRY_PASSWORD"))
                    .getBytes(StandardCharsets.UTF_8));
    Request.Builder b =
        new Request.Builder()
            .url(engineUrl() + "/ovirt-engine/api" + path)
            .header("Authorization", "Basic " + auth)
            .header("Accept", "application/json")
            .header("Version", "4");
    b.method(method, json == null ? null
        : RequestBody.create(json, MediaType.get("application/json")));
    try (Response r = http.newCall(b.build()).execute()) {
      return new String[] {String.valueOf(r.code()), r.body().string()};
    }
  }

  /** Writes {@code data} at {@code offset} of the disk as the VM's guest would. */
  void guestWrite(String vmId, String diskId, long offset, byte[] data) throws IOException {
    Request req =
        new Request.Builder()
            .url(engineUrl() + "/mini-engine/vms/" + vmId + "/disks/" + diskId + "/guest")
            .header("Content-Range", "bytes " + offset + "-" + (offset + data.length - 1) + "/*")
            .put(RequestBody.create(data, MediaType.get("application/octet-stream")))
            .build();
    try (Response r = http.newCall(req).execute()) {
      if (r.code() / 100 != 2) {
        throw new IOException("guest write: HTTP " + r.code() + " " + r.body().string());
      }
    }
  }

  @Override
  public void close() {
    try {
      run(dir, List.of("bash", TOOL.toString(), "stop"), "stop");
    } catch (IOException | InterruptedException | IllegalStateException e) {
      System.err.println("stopping ovirt-local in " + dir + ": " + e.getMessage());
    }
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
  }

  static void deleteTree(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    try (var s = Files.walk(p)) {
      for (Path x : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(x);
      }
    }
  }
}
