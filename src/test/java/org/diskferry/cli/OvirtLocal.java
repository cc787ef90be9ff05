package org.diskferry.cli;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import org.diskferry.cli.docs.Shells;
import org.diskferry.http.HttpClientFactory;
import org.diskferry.http.Json;
import org.diskferry.http.TlsOptions;

/**
 * The real ovirt-imageio daemon (writing through qemu-nbd) behind the independent engine
 * emulation of {@code ../shared/tools/ovirt-local} (or {@code $DISKFERRY_OVIRT_LOCAL}), started on
 * free loopback ports with all its state under {@code target/ovirt-local-it/NAME}, and stopped by
 * {@link #close()} (which keeps the daemon's and the engine's logs beside that directory).
 *
 * <p>Without ovirt-local or the tools it runs (python3, openssl, qemu-nbd, curl) the tests are
 * skipped with a one-line reason, except in CI ({@code CI=true}), where they must run.
 */
final class OvirtLocal implements AutoCloseable {

  private final Path tools;
  private final Path state;
  private final Path logs;
  private final Map<String, String> values;
  private final OkHttpClient http;

  private OvirtLocal(Path tools, Path state, Path logs, Map<String, String> values) {
    this.tools = tools;
    this.state = state;
    this.logs = logs;
    this.values = values;
    this.http = HttpClientFactory.create(TlsOptions.caFile(Path.of(values.get("CAFILE"))), null);
  }

  private static void skipOrFail(String why) {
    if ("true".equals(System.getenv("CI"))) {
      fail(why + ", and CI must run the tests against the real imageio daemon");
    }
    assumeTrue(false, why + ": skipping the tests against the real imageio daemon");
  }

  /** ovirt-local's folder, or a skip (a failure in CI) when it or a tool it needs is missing. */
  static Path tools() {
    String override = System.getenv("DISKFERRY_OVIRT_LOCAL");
    Path dir = override != null && !override.isBlank()
        ? Path.of(override) : Path.of("..", "shared", "tools", "ovirt-local");
    if (!Files.isRegularFile(dir.resolve("ovirt-local.sh"))) {
      skipOrFail(dir + "/ovirt-local.sh not found (put ../shared beside the project)");
    }
    for (String tool : List.of("python3", "openssl", "qemu-img", "qemu-nbd", "curl")) {
      if (!Shells.installed(tool)) {
        skipOrFail(tool + " is not installed (ovirt-local needs python3, openssl, qemu-utils, curl)");
      }
    }
    return dir.toAbsolutePath().normalize();
  }

  /**
   * Starts a fresh ovirt-local; {@code engineArgs} go to the engine emulation (see its
   * {@code --help}).
   */
  static OvirtLocal start(String name, String... engineArgs) throws IOException, InterruptedException {
    Path tools = tools();
    Path base = Path.of("target", "ovirt-local-it").toAbsolutePath();
    Path state = base.resolve(name);
    Path logs = base.resolve(name + "-logs");
    for (Path old : List.of(state, logs)) {
      if (Files.exists(old)) {
        run(tools, old, List.of("stop", "--clean"));
        deleteTree(old);
      }
    }
    Files.createDirectories(state);
    Path envFile = state.resolve("env");
    List<String> args = new ArrayList<>(List.of("start", "--data-dir",
        state.resolve("data").toString(), "--env-file", envFile.toString(), "--"));
    args.addAll(List.of(engineArgs));
    try {
      run(tools, state, args);
    } catch (IOException | RuntimeException e) {
      run(tools, state, List.of("stop"));
      throw e;
    }
    Map<String, String> values = new HashMap<>();
    for (String line : Files.readAllLines(envFile, StandardCharsets.UTF_8)) {
      int eq = line.indexOf('=');
      if (eq > 0) {
        values.put(line.substring(0, eq), line.substring(eq + 1));
      }
    }
    return new OvirtLocal(tools, state, logs, values);
  }

  private static void deleteTree(Path root) throws IOException {
    if (!Files.exists(root)) {
      return;
    }
    try (var paths = Files.walk(root)) {
      for (Path p : paths.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /** Runs ovirt-local.sh with its state in {@code state}; its output goes to a log beside it. */
  private static void run(Path tools, Path state, List<String> args)
      throws IOException, InterruptedException {
    List<String> cmd = new ArrayList<>(List.of("bash", tools.resolve("ovirt-local.sh").toString()));
    cmd.addAll(args);
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
    pb.environment().put("MINI_OVIRT_DIR", state.toString());
    Path log = state.resolveSibling(state.getFileName() + "-" + args.get(0) + ".log");
    pb.redirectOutput(log.toFile());
    Process p = pb.start();
    if (!p.waitFor(180, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IOException("ovirt-local.sh " + args.get(0) + " took over 3 minutes (" + log + ")");
    }
    // start prints the env file, the engine's password among its lines: keep the rest only.
    String out = Files.readString(log, StandardCharsets.UTF_8).replaceAll("(?m)^.*PASSWORD=.*\n?", "");
    Files.writeString(log, out, StandardCharsets.UTF_8);
    if (p.exitValue() != 0) {
      throw new IOException("ovirt-local.sh " + args.get(0) + " failed (exit " + p.exitValue()
          + "):\n" + out);
    }
  }

  /** The environment of an admin who sourced the env file, with a HOME and state of its own. */
  Map<String, String> env(Path home) {
    Map<String, String> env = new HashMap<>();
    for (String key : List.of("ENGINE_URL", "USERNAME", "PASSWORD", "CAFILE", "STORAGE_DOMAIN")) {
      env.put("DISKFERRY_" + key, values.get("DISKFERRY_" + key));
    }
    env.put("HOME", home.toString());
    env.put("XDG_STATE_HOME", home.resolve("state").toString());
    return env;
  }

  Path caFile() {
    return Path.of(values.get("CAFILE"));
  }

  /** The engine emulation's own view: disks (with their volume files), transfers, tickets. */
  JsonNode state() throws IOException {
    Request get = new Request.Builder().url(values.get("MINI_ENGINE_DEBUG_URL")).build();
    try (Response r = http.newCall(get).execute()) {
      if (r.code() != 200) {
        throw new IOException("GET " + get.url() + ": HTTP " + r.code());
      }
      return Json.mapper().readTree(r.body().string());
    }
  }

  /** The engine's record of a disk, or null. */
  JsonNode disk(String id) throws IOException {
    for (JsonNode d : state().path("disks")) {
      if (d.path("id").asText().equals(id)) {
        return d;
      }
    }
    return null;
  }

  /** The transfers the engine still lists for a disk. */
  List<JsonNode> transfers(String diskId) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    for (JsonNode t : state().path("transfers")) {
      if (t.path("disk_id").asText().equals(diskId)) {
        out.add(t);
      }
    }
    return out;
  }

  /** The imageio daemon's log (its CLOSE lines count requests per connection). */
  Path daemonLog() {
    return Path.of(values.get("IMAGEIO_LOG"));
  }

  @Override
  public void close() {
    try {
      Files.createDirectories(logs);
      for (String key : List.of("IMAGEIO_LOG", "MINI_ENGINE_LOG")) {
        Path log = Path.of(values.get(key));
        if (Files.exists(log)) {
          Files.copy(log, logs.resolve(log.getFileName()), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      System.err.println("keeping the logs of " + state + ": " + e.getMessage());
    }
    try {
      run(tools, state, List.of("stop", "--clean"));
    } catch (IOException | InterruptedException e) {
      System.err.println("stopping ovirt-local in " + state + ": " + e.getMessage());
    }
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
  }
}
