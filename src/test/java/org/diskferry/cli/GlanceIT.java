package org.diskferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import okhttp3.OkHttpClient;
import okhttp3.RequestBody;
import org.diskferry.cli.SandboxFixture.Result;
import org.diskferry.error.DiskferryException;
import org.diskferry.glance.CloudsYaml;
import org.diskferry.glance.CuttingProxy;
import org.diskferry.glance.GlanceClient;
import org.diskferry.glance.GlanceImage;
import org.diskferry.glance.GlanceLocal;
import org.diskferry.http.HttpClientFactory;
import org.diskferry.http.Json;
import org.diskferry.http.TlsOptions;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every Glance command, in-process, against a real Glance (Debian's glance-api) on loopback. */
class GlanceIT {

  @TempDir static Path dir;
  static GlanceLocal glance;
  static GlanceLocal capped;
  static CuttingProxy proxy;
  static Map<String, String> env;
  static GlanceClient client;

  @BeforeAll
  static void start() throws Exception {
    glance = GlanceLocal.start("main", 0);
    capped = GlanceLocal.start("capped", 1 << 20);
    proxy = new CuttingProxy(Integer.parseInt(glance.endpoint.replaceAll(".*:", "")));
    Path clouds = dir.resolve("clouds.yaml");
    Files.writeString(clouds, "clouds:\n" + GlanceLocal.cloud("it", glance.endpoint)
        + GlanceLocal.cloud("capped", capped.endpoint) + GlanceLocal.cloud("flaky", proxy.url()));
    env = new HashMap<>();
    env.put("HOME", dir.resolve("home").toString());
    env.put("XDG_STATE_HOME", dir.resolve("state").toString());
    env.put("OS_CLIENT_CONFIG_FILE", clouds.toString());
    client = GlanceClient.connect(HttpClientFactory.create(TlsOptions.system(), null),
        new CloudsYaml(env, dir, dir.resolve("etc")).resolve("it"));
  }

  @AfterAll
  static void stop() throws IOException {
    if (proxy != null) {
      proxy.close();
    }
    if (capped != null) {
      capped.close();
    }
    if (glance != null) {
      glance.close();
    }
  }

  static void sleep(long ms) {
    try {
      Thread.sleep(ms);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new AssertionError(e);
    }
  }

  static Result run(String... args) {
    return run(env, args);
  }

  static Result run(Map<String, String> e, String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream s = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      code = Main.run(o, s, e, args);
    }
    return new Result(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  static JsonNode json(Result r) throws IOException {
    assertThat(r.exit()).as(r.toString()).isZero();
    return Json.mapper().readTree(r.out());
  }

  static List<GlanceImage> named(String name) {
    return client.list(name);
  }

  static Path image(String name, long size, long seed) throws IOException {
    return SandboxFixture.image(dir.resolve(name), size, seed, true);
  }

  @Test
  void uploadListDownloadRoundTrip() throws IOException {
    Path src = image("round.img", (3 << 20) + 4321, 1);
    JsonNode up = json(run("--cloud", "it", "-o", "json", "upload", src.toString(),
        "--name", "round", "--visibility", "private", "--property", "os_distro=debian"));
    assertThat(up.get("command").asText()).isEqualTo("upload");
    assertThat(up.get("status").asText()).isEqualTo("active");
    assertThat(up.get("disk_format").asText()).isEqualTo("raw");
    assertThat(up.get("method").asText()).isEqualTo("direct");
    assertThat(up.get("bytes").asLong()).isEqualTo(Files.size(src));
    assertThat(up.path("checksum").path("verified").asBoolean()).isTrue();
    String id = up.get("image_id").asText();
    GlanceImage server = client.get(id);
    assertThat(server.visibility()).isEqualTo("private");
    assertThat(server.properties()).containsEntry("os_distro", "debian");
    assertThat(server.containerFormat()).isEqualTo("bare");
    assertThat(server.hashValue()).isEqualTo(up.path("checksum").path("sha512").asText());
    assertThat(server.checksum()).isEqualTo(up.path("checksum").path("md5").asText());

    JsonNode list = json(run("--cloud", "it", "-o", "json", "list"));
    assertThat(list.findValuesAsText("id")).contains(id);
    Result text = run("--cloud", "it", "list");
    assertThat(text.out()).contains(id).contains("round").contains(server.checksum());

    Path out = dir.resolve("round.out");
    JsonNode down = json(run("--cloud", "it", "-o", "json", "download", "round", out.toString()));
    assertThat(down.get("image_id").asText()).isEqualTo(id);
    assertThat(down.path("checksum").path("sha512").asText()).isEqualTo(server.hashValue());
    assertThat(Files.mismatch(src, out)).isEqualTo(-1);
    assertThat(Files.exists(Path.of(out + ".part"))).isFalse();

    Result again = run("--cloud", "it", "download", id, out.toString());
    assertThat(again.exit()).as(again.toString()).isEqualTo(2);
    assertThat(again.err()).contains("already exists; use --force");
    assertThat(run("--cloud", "it", "download", "--force", id, out.toString()).exit()).isZero();
  }

  @Test
  void importFlowStagesAndImports() throws IOException {
    Path src = image("imp.img", (2 << 20) + 17, 2);
    JsonNode up = json(run("--cloud", "it", "-o", "json", "upload", src.toString(),
        "--name", "imported", "--import"));
    assertThat(up.get("method").asText()).isEqualTo("glance-direct");
    GlanceImage i = client.get(up.get("image_id").asText());
    assertThat(i.status()).isEqualTo("active");
    assertThat(i.size()).isEqualTo(Files.size(src));
    assertThat(i.hashValue()).isEqualTo(up.path("checksum").path("sha512").asText());
  }

  @Test
  void formatIsDetectedAndRejectedFormatsCreateNothing() throws IOException {
    byte[] vmdk = new byte[64 << 10];
    System.arraycopy("KDMV".getBytes(StandardCharsets.US_ASCII), 0, vmdk, 0, 4);
    Path v = Files.write(dir.resolve("d.vmdk"), vmdk);
    JsonNode up = json(run("--cloud", "it", "-o", "json", "upload", v.toString()));
    assertThat(up.get("disk_format").asText()).isEqualTo("vmdk");
    assertThat(up.get("name").asText()).isEqualTo("d");

    byte[] qed = new byte[4096];
    System.arraycopy("QED\0".getBytes(StandardCharsets.ISO_8859_1), 0, qed, 0, 4);
    Path q = Files.write(dir.resolve("bad.qed"), qed);
    Result r = run("--cloud", "it", "upload", q.toString(), "--name", "never-qed");
    assertThat(r.exit()).as(r.toString()).isEqualTo(2);
    assertThat(r.err()).startsWith("diskferry: error: ").contains("qed").contains("qemu-img");
    assertThat(r.err().lines().count()).isEqualTo(1);
    assertThat(named("never-qed")).isEmpty();

    // A --disk-format that contradicts the content needs --force-disk-format (issue: a vmdk
    // published as raw is a known hypervisor hazard).
    Result refused = run("--cloud", "it", "upload", v.toString(), "--name", "as-raw",
        "--disk-format", "raw");
    assertThat(refused.exit()).as(refused.toString()).isEqualTo(2);
    assertThat(named("as-raw")).isEmpty();
    Result forced = run("--cloud", "it", "-o", "json", "upload", v.toString(), "--name", "as-raw",
        "--disk-format", "raw", "--force-disk-format");
    assertThat(json(forced).get("disk_format").asText()).isEqualTo("raw");
  }

  @Test
  void overQuotaIs413AndLeavesNoImage() throws IOException {
    Path src = image("big.img", 8 << 20, 3);
    Result r = run("--cloud", "capped", "upload", src.toString(), "--name", "too-big");
    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertThat(r.err()).contains("413");
    GlanceClient c = GlanceClient.connect(HttpClientFactory.create(TlsOptions.system(), null),
        new CloudsYaml(env, dir, dir.resolve("etc")).resolve("capped"));
    assertThat(c.list("too-big")).isEmpty();
  }

  @Test
  void uploadToAnActiveImageIsAConflict() throws IOException {
    Path src = image("conflict.img", 1 << 20, 4);
    String id = json(run("--cloud", "it", "-o", "json", "upload", src.toString(), "--name",
        "conflict")).get("image_id").asText();
    byte[] data = Files.readAllBytes(src);
    try {
      client.put(id, false, () -> RequestBody.create(data, okhttp3.MediaType.get(
          "application/octet-stream")));
      throw new AssertionError("a second upload to an active image was accepted");
    } catch (DiskferryException e) {
      assertThat(e.kind()).isEqualTo(DiskferryException.Kind.CONFLICT);
      assertThat(e.getMessage()).contains("409");
    }
    Result cancel = run("--cloud", "it", "cancel", id);
    assertThat(cancel.exit()).as(cancel.toString()).isEqualTo(5);
    assertThat(client.get(id).status()).isEqualTo("active");
  }

  @Test
  void brokenUploadLeavesNothingUnlessKept() throws IOException {
    Path src = image("broken.img", 6 << 20, 5);
    proxy.cutRequestAfter(2 << 20, null);
    Result r = run("--cloud", "flaky", "upload", src.toString(), "--name", "broken",
        "--retries", "0");
    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertThat(named("broken")).isEmpty();

    proxy.cutRequestAfter(2 << 20, null);
    Result kept = run("--cloud", "flaky", "upload", src.toString(), "--name", "kept",
        "--retries", "0", "--keep-on-failure");
    assertThat(kept.exit()).as(kept.toString()).isEqualTo(1);
    List<GlanceImage> left = named("kept");
    assertThat(left).hasSize(1);
    // Glance may still be reading the broken upload (saving) or be done with it (queued).
    assertThat(left.get(0).status()).isIn("queued", "saving");

    JsonNode status = json(run("--cloud", "it", "-o", "json", "status"));
    assertThat(status.findValuesAsText("image_id")).contains(left.get(0).id());
    JsonNode one = json(run("--cloud", "it", "-o", "json", "status", left.get(0).id()));
    assertThat(one.get("status").asText()).isIn("queued", "saving");

    JsonNode cancel = json(run("--cloud", "it", "-o", "json", "cancel", left.get(0).id()));
    assertThat(cancel.get("image_deleted").asBoolean()).isTrue();
    assertThat(named("kept")).isEmpty();
  }

  @Test
  void aDroppedUploadIsRetried() throws IOException {
    Path src = image("retried.img", 6 << 20, 6);
    proxy.cutRequestAfter(3 << 20, null);
    JsonNode up = json(run("--cloud", "flaky", "-o", "json", "upload", src.toString(), "--name",
        "retried", "--retry-delay", "50"));
    assertThat(client.get(up.get("image_id").asText()).size()).isEqualTo(Files.size(src));
  }

  @Test
  void droppedDownloadResumesWithRange() throws IOException {
    Path src = image("range.img", 12 << 20, 7);
    String id = json(run("--cloud", "it", "-o", "json", "upload", src.toString(), "--name",
        "range")).get("image_id").asText();
    int before = proxy.requests.size();
    proxy.cutResponseAfter(5 << 20, null);
    Path out = dir.resolve("range.out");
    json(run("--cloud", "flaky", "-o", "json", "download", id, out.toString(),
        "--retry-delay", "50"));
    assertThat(Files.mismatch(src, out)).isEqualTo(-1);
    List<String> sent = proxy.requests.subList(before, proxy.requests.size());
    assertThat(sent).anyMatch(h -> h.matches("(?is).*\r\nRange: bytes=[1-9][0-9]*-.*"));
    assertThat(proxy.responses).anyMatch(s -> s.contains(" 206 "));
  }

  @Test
  void interruptedDownloadContinuesWithResume() throws IOException {
    Path src = image("resume.img", 10 << 20, 8);
    String id = json(run("--cloud", "it", "-o", "json", "upload", src.toString(), "--name",
        "resume")).get("image_id").asText();
    proxy.cutResponseAfter(4 << 20, null);
    Path out = dir.resolve("resume.out");
    Result r = run("--cloud", "flaky", "download", id, out.toString(), "--retries", "0");
    assertThat(r.exit()).as(r.toString()).isEqualTo(75);
    assertThat(r.err()).contains("resume " + id);
    assertThat(Files.exists(out)).isFalse();
    JsonNode st = json(run("--cloud", "flaky", "-o", "json", "status", id));
    assertThat(st.get("resumable").asBoolean()).isTrue();
    // The journal names its cloud, so resume needs no --cloud.
    JsonNode done = json(run("-o", "json", "resume", id));
    assertThat(done.get("image_id").asText()).isEqualTo(id);
    assertThat(Files.mismatch(src, out)).isEqualTo(-1);
    assertThat(Files.exists(Path.of(out + ".part"))).isFalse();
    assertThat(run("--cloud", "flaky", "resume", "--all").out()).contains("nothing to resume");
  }

  @Test
  void sigintDuringAnUploadDeletesTheImage() throws Exception {
    Path src = image("sigint.img", 64 << 20, 11);
    Path err = dir.resolve("sigint.err");
    proxy.throttle(4 << 20);
    Process p = CliProcess.start(env, err, "--cloud", "flaky", "upload", src.toString(),
        "--name", "sigint");
    try {
      CliProcess.awaitOutput(err, "uploading");
      sleep(1000);
      CliProcess.signal(p, "INT");
      assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    } finally {
      p.destroyForcibly();
      proxy.throttle(0);
    }
    String text = Files.readString(err, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(text).isEqualTo(130);
    assertThat(text).contains("interrupted by SIGINT");
    assertThat(named("sigint")).isEmpty();
  }

  @Test
  void sigtermDuringADownloadKeepsTheJournalForResume() throws Exception {
    Path src = image("sigterm.img", 48 << 20, 12);
    String id = json(run("--cloud", "it", "-o", "json", "upload", src.toString(), "--name",
        "sigterm")).get("image_id").asText();
    Path out = dir.resolve("sigterm.out");
    Path err = dir.resolve("sigterm.err");
    proxy.throttle(4 << 20);
    Process p = CliProcess.start(env, err, "--cloud", "flaky", "download", id, out.toString());
    try {
      CliProcess.awaitOutput(err, "downloading");
      sleep(1500);
      CliProcess.signal(p, "TERM");
      assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
    } finally {
      p.destroyForcibly();
      proxy.throttle(0);
    }
    String text = Files.readString(err, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(text).isEqualTo(143);
    assertThat(text).contains("resume " + id);
    assertThat(Files.exists(out)).isFalse();
    JsonNode done = json(run("-o", "json", "resume", id));
    assertThat(done.get("bytes").asLong()).isEqualTo(Files.size(src));
    assertThat(Files.mismatch(src, out)).isEqualTo(-1);
  }

  @Test
  void imageDeletedMidDownloadFailsCleanly() throws IOException {
    Path src = image("gone.img", 10 << 20, 9);
    String id = json(run("--cloud", "it", "-o", "json", "upload", src.toString(), "--name",
        "gone")).get("image_id").asText();
    proxy.cutResponseAfter(3 << 20, () -> client.delete(id));
    Path out = dir.resolve("gone.out");
    Result r = run("--cloud", "flaky", "download", id, out.toString(), "--retry-delay", "50");
    assertThat(r.exit()).as(r.toString()).isEqualTo(4);
    assertThat(r.err()).contains("deleted during the download");
    assertThat(Files.exists(out)).isFalse();
    assertThat(Files.exists(Path.of(out + ".part"))).isFalse();
  }

  @Test
  void badInputIsOneLineWithItsExitCode() throws IOException {
    Path src = image("dup.img", 1 << 20, 10);
    json(run("--cloud", "it", "-o", "json", "upload", src.toString(), "--name", "dup"));
    json(run("--cloud", "it", "-o", "json", "upload", src.toString(), "--name", "dup"));
    Result amb = run("--cloud", "it", "download", "dup", dir.resolve("dup.out").toString());
    assertThat(amb.exit()).isEqualTo(2);
    assertThat(amb.err()).contains("2 images are named 'dup'");
    for (GlanceImage i : named("dup")) {
      assertThat(amb.err()).contains(i.id());
    }

    Result missing = run("--cloud", "it", "download", "no-such", dir.resolve("x").toString());
    assertThat(missing.exit()).isEqualTo(4);
    assertThat(missing.err()).isEqualTo("diskferry: error: image 'no-such' not found\n");

    Result unknown = run("--cloud", "nope", "list");
    assertThat(unknown.exit()).isEqualTo(2);
    assertThat(unknown.err()).contains("cloud 'nope' is not in").contains("it, capped, flaky");

    Map<String, String> noFile = new HashMap<>(env);
    noFile.remove("OS_CLIENT_CONFIG_FILE");
    noFile.put("OS_CLOUD", "it");
    Result none = run(noFile, "list");
    assertThat(none.exit()).isEqualTo(2);
    assertThat(none.err()).contains("no clouds.yaml found");

    Result ovirt = run("--cloud", "it", "upload", src.toString(), "-s", "data");
    assertThat(ovirt.exit()).isEqualTo(2);
    assertThat(ovirt.err()).contains("--storage-domain is an oVirt option");
    Result glanceOnly = run("--engine-url", "https://127.0.0.1:1", "upload", src.toString(),
        "--import");
    assertThat(glanceOnly.exit()).isEqualTo(2);
    assertThat(glanceOnly.err()).contains("--import is a Glance option");
    List<String> all = new ArrayList<>();
    for (GlanceImage i : client.list(null)) {
      all.add(i.name());
    }
    assertThat(all).doesNotContain("never");
  }
}
