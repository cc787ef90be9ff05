package org.diskferry.glance;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.absent;
import static com.github.tomakehurst.wiremock.client.WireMock.delete;
import static com.github.tomakehurst.wiremock.client.WireMock.deleteRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.diskferry.cli.Main;
import org.diskferry.transfer.Direction;
import org.diskferry.transfer.Journal;
import org.diskferry.transfer.JournalStore;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Glance answers a real file-store Glance does not give, over WireMock: a checksum that does not
 * match, and stores that cannot serve ranges (400, or the whole image as 200).
 */
class GlanceProtocolTest {

  static final String ID = "11111111-2222-3333-4444-555555555555";

  @TempDir Path dir;
  WireMockServer wm;
  Map<String, String> env;
  byte[] data = new byte[3 << 20];

  @BeforeEach
  void start() throws Exception {
    wm = new WireMockServer(
        WireMockConfiguration.wireMockConfig().dynamicPort().bindAddress("127.0.0.1"));
    wm.start();
    Path clouds = Files.writeString(dir.resolve("clouds.yaml"), "clouds:\n  wm:\n"
        + "    auth_type: none\n    image_endpoint_override: http://127.0.0.1:" + wm.port() + "\n");
    env = Map.of("OS_CLIENT_CONFIG_FILE", clouds.toString(), "HOME", dir.toString(),
        "XDG_STATE_HOME", dir.resolve("state").toString());
    new Random(3).nextBytes(data);
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

  static String hex(String algo, byte[] b) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance(algo).digest(b));
  }

  String image(String status, String sha512) {
    return "{\"id\":\"" + ID + "\",\"name\":\"img\",\"status\":\"" + status + "\",\"size\":"
        + data.length + ",\"disk_format\":\"raw\",\"container_format\":\"bare\","
        + "\"os_hash_algo\":\"sha512\",\"os_hash_value\":\"" + sha512 + "\"}";
  }

  @Test
  void checksumMismatchAfterUploadDeletesTheImage() throws Exception {
    Path src = Files.write(dir.resolve("img.raw"), data);
    wm.stubFor(post(urlEqualTo("/v2/images")).willReturn(aResponse().withStatus(201)
        .withBody(image("queued", "null").replace("\"null\"", "null"))));
    wm.stubFor(put(urlEqualTo("/v2/images/" + ID + "/file")).willReturn(aResponse().withStatus(204)));
    wm.stubFor(get(urlEqualTo("/v2/images/" + ID)).willReturn(okJson(image("active", "ab".repeat(64)))));
    wm.stubFor(delete(urlEqualTo("/v2/images/" + ID)).willReturn(aResponse().withStatus(204)));
    Run r = run("--cloud", "wm", "upload", src.toString(), "--keep-on-failure");
    assertThat(r.exit()).as(r.err()).isEqualTo(1);
    assertThat(r.err()).contains("checksum mismatch").contains(hex("SHA-512", data));
    wm.verify(putRequestedFor(urlEqualTo("/v2/images/" + ID + "/file"))
        .withHeader("Content-Type", equalTo("application/octet-stream"))
        .withHeader("Content-Length", equalTo(String.valueOf(data.length))));
    wm.verify(1, deleteRequestedFor(urlEqualTo("/v2/images/" + ID)));
  }

  /** An active image as a cloud reports it with this hash algorithm (and md5 checksum). */
  String activeImage(String algo, String value, String md5) {
    return "{\"id\":\"" + ID + "\",\"name\":\"img\",\"status\":\"active\",\"size\":"
        + data.length + ",\"disk_format\":\"raw\",\"container_format\":\"bare\","
        + "\"os_hash_algo\":" + (algo == null ? "null" : "\"" + algo + "\"")
        + ",\"os_hash_value\":" + (value == null ? "null" : "\"" + value + "\"")
        + ",\"checksum\":" + (md5 == null ? "null" : "\"" + md5 + "\"") + "}";
  }

  private Run uploadTo(String activeJson) throws Exception {
    Path src = Files.write(dir.resolve("img.raw"), data);
    wm.stubFor(post(urlEqualTo("/v2/images")).willReturn(aResponse().withStatus(201)
        .withBody(image("queued", "null").replace("\"null\"", "null"))));
    wm.stubFor(put(urlEqualTo("/v2/images/" + ID + "/file")).willReturn(aResponse().withStatus(204)));
    wm.stubFor(get(urlEqualTo("/v2/images/" + ID)).willReturn(okJson(activeJson)));
    wm.stubFor(delete(urlEqualTo("/v2/images/" + ID)).willReturn(aResponse().withStatus(204)));
    return run("--cloud", "wm", "-o", "json", "upload", src.toString());
  }

  @Test
  void anUploadIsVerifiedWithTheDigestTheCloudReports() throws Exception {
    // The default: sha512, computed while sending; the md5 in the result is Glance's own.
    Run r = uploadTo(activeImage("sha512", hex("SHA-512", data), hex("MD5", data)));
    assertThat(r.exit()).as(r.err()).isZero();
    var sum = org.diskferry.http.Json.mapper().readTree(r.out()).path("checksum");
    assertThat(sum.path("verified").asBoolean()).isTrue();
    assertThat(sum.path("sha512").asText()).isEqualTo(hex("SHA-512", data));
    assertThat(r.err()).doesNotContain("computing");
  }

  @Test
  void anotherAlgorithmIsComputedByReadingTheFileAgain() throws Exception {
    Run r = uploadTo(activeImage("sha3_256", hex("SHA3-256", data), null));
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(org.diskferry.http.Json.mapper().readTree(r.out()).path("checksum")
        .path("verified").asBoolean()).isTrue();
    wm.verify(0, deleteRequestedFor(urlEqualTo("/v2/images/" + ID)));
  }

  @Test
  void aCloudWithOnlyAnMd5ChecksumIsVerifiedWithMd5() throws Exception {
    Run r = uploadTo(activeImage(null, null, hex("MD5", data)));
    assertThat(r.exit()).as(r.err()).isZero();
    var sum = org.diskferry.http.Json.mapper().readTree(r.out()).path("checksum");
    assertThat(sum.path("verified").asBoolean()).isTrue();
    assertThat(sum.path("md5").asText()).isEqualTo(hex("MD5", data));
  }

  @Test
  void aMismatchInAnotherAlgorithmDeletesTheImage() throws Exception {
    Run r = uploadTo(activeImage("sha256", "cd".repeat(32), null));
    assertThat(r.exit()).as(r.err()).isEqualTo(1);
    assertThat(r.err()).contains("checksum mismatch").contains("sha256")
        .contains(hex("SHA-256", data));
    wm.verify(1, deleteRequestedFor(urlEqualTo("/v2/images/" + ID)));
  }

  @Test
  void hashlibNamesMapToJavaDigests() {
    assertThat(GlanceUpload.javaDigestName("sha512")).isEqualTo("SHA-512");
    assertThat(GlanceUpload.javaDigestName("sha3_512")).isEqualTo("SHA3-512");
    assertThat(GlanceUpload.javaDigestName("sha512_256")).isEqualTo("SHA-512/256");
    assertThat(GlanceUpload.javaDigestName("md5")).isEqualTo("MD5");
  }

  /** A download that stopped after 1 MiB, as a journal and a .part. */
  Path interrupted() throws Exception {
    Path target = dir.resolve("out.raw");
    Files.write(Path.of(target + ".part"), java.util.Arrays.copyOf(data, 1 << 20));
    new JournalStore(dir.resolve("state/diskferry")).save(new Journal(
        Journal.VERSION, ID, ID, Direction.DOWNLOAD, "glance:wm", target.toString(), 0, 0,
        data.length, false, false, List.of(new long[] {0, 1 << 20}), 0));
    wm.stubFor(get(urlEqualTo("/v2/images/" + ID)).willReturn(okJson(image("active",
        hex("SHA-512", data)))));
    return target;
  }

  @Test
  void aStoreThatRefusesRangesGetsTheWholeImageAgain() throws Exception {
    Path target = interrupted();
    wm.stubFor(get(urlEqualTo("/v2/images/" + ID + "/file")).withHeader("Range", equalTo(
        "bytes=" + (1 << 20) + "-")).willReturn(aResponse().withStatus(400)
        .withBody("{\"message\":\"StoreRandomGetNotSupported\"}")));
    wm.stubFor(get(urlEqualTo("/v2/images/" + ID + "/file")).withHeader("Range", absent())
        .willReturn(aResponse().withStatus(200).withBody(data)));
    Run r = run("--cloud", "wm", "-o", "json", "resume", ID);
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(Files.readAllBytes(target)).isEqualTo(data);
    wm.verify(1, getRequestedFor(urlEqualTo("/v2/images/" + ID + "/file"))
        .withHeader("Range", absent()));
  }

  @Test
  void aStoreThatIgnoresRangesIsReadFromTheStart() throws Exception {
    Path target = interrupted();
    wm.stubFor(get(urlEqualTo("/v2/images/" + ID + "/file"))
        .willReturn(aResponse().withStatus(200).withBody(data)));
    Run r = run("--cloud", "wm", "resume", ID);
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(Files.readAllBytes(target)).isEqualTo(data);
    assertThat(Files.exists(Path.of(target + ".part"))).isFalse();
  }

  /**
   * A partial file on a full device (/dev/full answers every write with ENOSPC, as a full file
   * system does): one request, no retry, exit 1 naming the file, nothing left to resume.
   */
  @Test
  void aFullDiskFailsTheDownloadAtOnceWithoutRetries() throws Exception {
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isWritable(Path.of("/dev/full")),
        "no writable /dev/full");
    Path target = dir.resolve("full.raw");
    Path part = Path.of(target + ".part");
    Files.createSymbolicLink(part, Path.of("/dev/full"));
    wm.stubFor(get(urlEqualTo("/v2/images/" + ID)).willReturn(okJson(image("active",
        hex("SHA-512", data)))));
    wm.stubFor(get(urlEqualTo("/v2/images/" + ID + "/file"))
        .willReturn(aResponse().withStatus(200).withBody(data)));
    Run r = run("--cloud", "wm", "download", ID, target.toString(), "--retry-delay", "5");
    assertThat(r.exit()).as(r.err()).isEqualTo(1);
    List<String> errors = r.err().lines().filter(l -> l.startsWith("diskferry: error:")).toList();
    assertThat(errors).as(r.err()).hasSize(1);
    assertThat(errors.get(0))
        .startsWith("diskferry: error: cannot write " + part + ": No space left on device;"
            + " the download needs 3.0 MiB there")
        .endsWith("(removed the partial file)");
    assertThat(r.err()).doesNotContain("retry").doesNotContain("resume");
    wm.verify(1, getRequestedFor(urlEqualTo("/v2/images/" + ID + "/file")));
    assertThat(Files.exists(part, java.nio.file.LinkOption.NOFOLLOW_LINKS)).isFalse();
    assertThat(target).doesNotExist();
    assertThat(new JournalStore(dir.resolve("state/diskferry")).list()).isEmpty();
  }

  /** Another diskferry writing the same file: refused before its partial file is touched. */
  @Test
  void aSecondDownloadToTheSameFileRefuses() throws Exception {
    Path target = interrupted();
    byte[] before = Files.readAllBytes(Path.of(target + ".part"));
    JournalStore store = new JournalStore(dir.resolve("state/diskferry"));
    String journal = Files.readString(store.file(ID));
    try (var held = org.diskferry.transfer.TargetLock.acquire(store, target)) {
      Run r = run("--cloud", "wm", "download", ID, target.toString());
      assertThat(r.exit()).as(r.err()).isEqualTo(5);
      assertThat(r.err().lines().filter(l -> l.startsWith("diskferry: error:")).toList())
          .containsExactly("diskferry: error: " + target + " is being written by another"
              + " diskferry (its out.raw.part is locked); wait until that one ends, or stop it");
      Run again = run("--cloud", "wm", "resume", ID);
      assertThat(again.exit()).as(again.err()).isEqualTo(5);
    }
    assertThat(Files.readAllBytes(Path.of(target + ".part"))).isEqualTo(before);
    assertThat(Files.readString(store.file(ID))).isEqualTo(journal);
    wm.verify(0, getRequestedFor(urlEqualTo("/v2/images/" + ID + "/file")));
  }
}
