package org.diskferry.glance;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.delete;
import static com.github.tomakehurst.wiremock.client.WireMock.deleteRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.diskferry.cli.Main;
import org.diskferry.error.DiskferryException;
import org.diskferry.http.HttpClientFactory;
import org.diskferry.http.Json;
import org.diskferry.http.TlsOptions;
import org.diskferry.transfer.TransferListener;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an upload to Glance checks of its source before anything exists in Glance, as the oVirt
 * path does: damaged and empty images, a --disk-format that contradicts the contents, reserved
 * properties; and a source that changes while it is sent.
 */
class GlanceSourceChecksTest {

  static final String ID = "11111111-2222-3333-4444-555555555555";

  @TempDir Path dir;
  WireMockServer wm;
  Map<String, String> env;

  @BeforeEach
  void start() throws Exception {
    wm = new WireMockServer(
        WireMockConfiguration.wireMockConfig().dynamicPort().bindAddress("127.0.0.1"));
    wm.start();
    Path clouds = Files.writeString(dir.resolve("clouds.yaml"), "clouds:\n  wm:\n"
        + "    auth_type: none\n    image_endpoint_override: http://127.0.0.1:" + wm.port() + "\n");
    env = Map.of("OS_CLIENT_CONFIG_FILE", clouds.toString(), "HOME", dir.toString(),
        "XDG_STATE_HOME", dir.resolve("state").toString());
  }

  @AfterEach
  void stop() {
    wm.stop();
  }

  record Run(int exit, String out, String err) {}

  Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.run(new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), env, args);
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  static void qemuImg(String... args) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("qemu-img"));
    cmd.addAll(List.of(args));
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    } catch (IOException e) {
      assumeTrue(false, "qemu-img is not installed (apt-get install qemu-utils)");
      return;
    }
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(out).isZero();
  }

  Path raw(String name, int size) throws IOException {
    byte[] data = new byte[size];
    new Random(size).nextBytes(data);
    data[0] = (byte) 0xeb;
    return Files.write(dir.resolve(name), data);
  }

  Path qcow2(String name) throws Exception {
    Path q = dir.resolve(name);
    qemuImg("convert", "-f", "raw", "-O", "qcow2", raw(name + ".src", 4 << 20).toString(),
        q.toString());
    return q;
  }

  /** One line on stderr, the exit code, and not one request to Glance. */
  void refusedLocally(Run r, String... messageParts) {
    assertThat(r.exit()).as(r.err()).isEqualTo(2);
    List<String> lines = r.err().lines().filter(l -> l.startsWith("diskferry: error: ")).toList();
    assertThat(lines).as(r.err()).hasSize(1);
    assertThat(lines.get(0)).contains(messageParts).doesNotContain("Exception");
    assertThat(wm.getAllServeEvents()).isEmpty();
  }

  @Test
  void aQcow2WithABrokenL1TableIsNotPublished() throws Exception {
    Path q = qcow2("broken-l1.qcow2");
    try (FileChannel ch = FileChannel.open(q, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.allocate(8).putLong(0, 12345), 40); // L1 table offset, unaligned
    }
    refusedLocally(run("--cloud", "wm", "upload", q.toString()),
        "damaged qcow2 image", "L1 table offset 12345");
  }

  @Test
  void aTruncatedQcow2IsNotPublished() throws Exception {
    Path q = qcow2("truncated.qcow2");
    try (FileChannel ch = FileChannel.open(q, StandardOpenOption.WRITE)) {
      ch.truncate(ch.size() / 2);
    }
    refusedLocally(run("--cloud", "wm", "upload", q.toString()),
        "damaged qcow2 image", "beyond the end of the file");
    // Also when the user names the format: it is still a qcow2 Glance would publish.
    refusedLocally(run("--cloud", "wm", "upload", q.toString(), "--disk-format", "qcow2"),
        "beyond the end of the file");
  }

  @Test
  void anEmptyFileIsNotPublished() throws Exception {
    Path empty = Files.createFile(dir.resolve("empty.raw"));
    refusedLocally(run("--cloud", "wm", "upload", empty.toString()), "is empty (0 bytes)");
    refusedLocally(run("--cloud", "wm", "upload", empty.toString(), "--disk-format", "raw"),
        "is empty (0 bytes)");
  }

  @Test
  void aDiskFormatThatContradictsTheContentsIsRefusedUnlessForced() throws Exception {
    Path q = qcow2("real.qcow2");
    refusedLocally(run("--cloud", "wm", "upload", q.toString(), "--disk-format", "raw"),
        "holds a qcow2 image but --disk-format is raw", "to publish it as qcow2",
        "--force-disk-format");
    Path r = raw("plain.img", 1 << 20);
    refusedLocally(run("--cloud", "wm", "upload", r.toString(), "--disk-format", "qcow2"),
        "holds raw data (no disk image header) but --disk-format is qcow2");
    refusedLocally(run("--cloud", "wm", "upload", r.toString(), "--disk-format", "vmdk"),
        "--disk-format is vmdk");
    // --force-disk-format alone means nothing
    refusedLocally(run("--cloud", "wm", "upload", r.toString(), "--force-disk-format"),
        "--force-disk-format needs --disk-format");
  }

  @Test
  void whatFitsAndWhatIsForced() throws Exception {
    Path q = qcow2("fits.qcow2");
    Path r = raw("fits.img", 1 << 20);
    assertThat(GlanceUpload.diskFormatFor(q, null, false)).isEqualTo("qcow2");
    assertThat(GlanceUpload.diskFormatFor(q, "qcow2", false)).isEqualTo("qcow2");
    assertThat(GlanceUpload.diskFormatFor(r, null, false)).isEqualTo("raw");
    assertThat(GlanceUpload.diskFormatFor(r, "raw", false)).isEqualTo("raw");
    assertThat(GlanceUpload.diskFormatFor(r, "ami", false)).isEqualTo("ami");
    assertThat(GlanceUpload.diskFormatFor(r, "aki", false)).isEqualTo("aki");
    assertThat(GlanceUpload.diskFormatFor(q, "raw", true)).isEqualTo("raw");
    assertThat(GlanceUpload.diskFormatFor(r, "qcow2", true)).isEqualTo("qcow2");
    assertThatThrownBy(() -> GlanceUpload.diskFormatFor(q, "iso", false))
        .hasMessageContaining("--disk-format is iso");
    // A .qcow2 whose header is gone is not published as raw unless raw is said.
    Path noMagic = Files.copy(q, dir.resolve("no-magic.qcow2"));
    try (FileChannel ch = FileChannel.open(noMagic, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap("XXXX".getBytes(StandardCharsets.US_ASCII)), 0);
    }
    assertThatThrownBy(() -> GlanceUpload.diskFormatFor(noMagic, null, false))
        .isInstanceOf(DiskferryException.class)
        .hasMessageContaining("is named like a qcow2 image but has no qcow2 header")
        .hasMessageEndingWith("if it really is a raw image, give --disk-format raw");
    assertThat(GlanceUpload.diskFormatFor(noMagic, "raw", false)).isEqualTo("raw");
  }

  @Test
  void reservedPropertiesAreRefusedBeforeGlanceIsAsked() throws Exception {
    Path r = raw("props.img", 1 << 20);
    refusedLocally(run("--cloud", "wm", "upload", r.toString(), "--property", "status=active"),
        "--property status: Glance sets status itself (read-only)");
    refusedLocally(run("--cloud", "wm", "upload", r.toString(), "--property", "os_hash_value=x"),
        "--property os_hash_value");
    refusedLocally(run("--cloud", "wm", "upload", r.toString(), "--property", "os_glance_x=1"),
        "--property os_glance_x");
    refusedLocally(run("--cloud", "wm", "upload", r.toString(), "--property", "disk_format=raw"),
        "use --disk-format instead");
    refusedLocally(run("--cloud", "wm", "upload", r.toString(), "--property", "min_disk=ten"),
        "--property min_disk wants a whole number");
    refusedLocally(run("--cloud", "wm", "upload", r.toString(), "--property", "protected=yes"),
        "--property protected wants true or false");
  }

  @Test
  void typedPropertiesAreSentAsTheirType() throws Exception {
    Path r = raw("typed.img", 1 << 20);
    wm.stubFor(post(urlEqualTo("/v2/images")).willReturn(aResponse().withStatus(201)
        .withBody("{\"id\":\"" + ID + "\",\"status\":\"queued\"}")));
    wm.stubFor(put(urlEqualTo("/v2/images/" + ID + "/file"))
        .willReturn(aResponse().withStatus(500)));
    wm.stubFor(get(urlEqualTo("/v2/images/" + ID))
        .willReturn(okJson("{\"id\":\"" + ID + "\",\"status\":\"queued\"}")));
    wm.stubFor(delete(urlEqualTo("/v2/images/" + ID)).willReturn(aResponse().withStatus(204)));
    run("--cloud", "wm", "upload", r.toString(), "--retries", "0", "--property", "min_disk=10",
        "--property", "protected=false", "--property", "tags=a,b", "--property", "x=1");
    JsonNode body = Json.mapper().readTree(
        wm.findAll(postRequestedFor(urlEqualTo("/v2/images"))).get(0).getBodyAsString());
    assertThat(body.get("min_disk").isInt()).isTrue();
    assertThat(body.get("min_disk").asInt()).isEqualTo(10);
    assertThat(body.get("protected").isBoolean()).isTrue();
    assertThat(body.get("tags").toString()).isEqualTo("[\"a\",\"b\"]");
    assertThat(body.get("x").asText()).isEqualTo("1");
  }

  /** The flow over WireMock, with a listener that changes the source once 1 MiB was sent. */
  DiskferryException uploadWhileChanging(Path src, boolean shrink) {
    wm.stubFor(post(urlEqualTo("/v2/images")).willReturn(aResponse().withStatus(201)
        .withBody("{\"id\":\"" + ID + "\",\"status\":\"queued\"}")));
    wm.stubFor(put(urlEqualTo("/v2/images/" + ID + "/file"))
        .willReturn(aResponse().withStatus(204)));
    wm.stubFor(get(urlEqualTo("/v2/images/" + ID))
        .willReturn(okJson("{\"id\":\"" + ID + "\",\"status\":\"queued\"}")));
    wm.stubFor(delete(urlEqualTo("/v2/images/" + ID)).willReturn(aResponse().withStatus(204)));
    CloudConfig cloud = CloudsYaml.fromEnvironment(env).resolve("wm");
    GlanceClient glance = GlanceClient.connect(
        HttpClientFactory.create(new TlsOptions(null, false), null), cloud);
    AtomicBoolean changed = new AtomicBoolean();
    TransferListener listener = new TransferListener() {
      @Override
      public void progress(long transferred, long size) {
        if (transferred >= 1 << 20 && changed.compareAndSet(false, true)) {
          try (FileChannel ch = FileChannel.open(src, StandardOpenOption.WRITE)) {
            if (shrink) {
              ch.truncate(2 << 20);
            } else {
              ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3}), 3 << 20);
              ch.force(true);
              Files.setLastModifiedTime(src, FileTime.fromMillis(System.currentTimeMillis()
                  + 5000));
            }
          } catch (IOException e) {
            throw new UncheckedIOException(e);
          }
        }
      }
    };
    GlanceUpload.Spec spec = new GlanceUpload.Spec(
        src, "changing", "raw", null, Map.of(), false, true, 5, 256 << 10);
    try {
      new GlanceUpload(glance, listener).run(spec);
    } catch (DiskferryException e) {
      return e;
    }
    throw new AssertionError("the upload of a changing source succeeded");
  }

  @Test
  void aSourceThatShrinksWhileSentIsExit2AtOnce() throws Exception {
    Path src = raw("shrinks.img", 8 << 20);
    long t0 = System.nanoTime();
    DiskferryException e = uploadWhileChanging(src, true);
    assertThat(e.kind()).isEqualTo(DiskferryException.Kind.BAD_INPUT);
    assertThat(e.getMessage()).contains(src + " changed while it was being uploaded");
    // Not sent again: no wait for queued (what a retry does first), no back-off.
    wm.verify(0, getRequestedFor(urlEqualTo("/v2/images/" + ID)));
    assertThat(System.nanoTime() - t0).isLessThan(TimeUnit.SECONDS.toNanos(5));
  }

  @Test
  void aSourceChangedInPlaceWhileSentIsDeletedEvenWithKeepOnFailure() throws Exception {
    Path src = raw("changes.img", 8 << 20);
    DiskferryException e = uploadWhileChanging(src, false);
    assertThat(e.kind()).isEqualTo(DiskferryException.Kind.BAD_INPUT);
    assertThat(e.getMessage()).contains("changed while it was being uploaded");
    wm.verify(1, putRequestedFor(urlEqualTo("/v2/images/" + ID + "/file")));
    wm.verify(1, deleteRequestedFor(urlEqualTo("/v2/images/" + ID)));
  }
}
