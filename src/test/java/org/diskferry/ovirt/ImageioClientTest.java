package org.diskferry.ovirt;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.anyRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.anyUrl;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.patch;
import static com.github.tomakehurst.wiremock.client.WireMock.patchRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.put;
import static com.github.tomakehurst.wiremock.client.WireMock.putRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.request;
import static com.github.tomakehurst.wiremock.client.WireMock.requestMadeFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.core.Options;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import okhttp3.OkHttpClient;
import org.diskferry.error.DiskferryException;
import org.diskferry.http.HttpClientFactory;
import org.diskferry.http.Json;
import org.diskferry.http.TlsOptions;
import org.diskferry.transfer.UncachedFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

class ImageioClientTest {

  static final String TICKET = "5916515f-d628-4311-8ce2-614c9d09731e";
  static final String IMAGE = "/images/" + TICKET;
  static final String WRITE_OPTIONS =
      "{\"features\":[\"checksum\",\"extents\",\"flush\",\"zero\"],\"max_readers\":8,"
          + "\"max_writers\":8}";

  @RegisterExtension
  final WireMockExtension wm =
      WireMockExtension.newInstance()
          .options(
              wireMockConfig()
                  .dynamicPort()
                  .bindAddress("127.0.0.1")
                  .useChunkedTransferEncoding(Options.ChunkedEncodingPolicy.NEVER))
          .build();

  @TempDir Path dir;

  final OkHttpClient http = HttpClientFactory.create(TlsOptions.system(), null);

  @AfterEach
  void shutDown() {
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
  }

  String url() {
    return wm.getRuntimeInfo().getHttpBaseUrl() + IMAGE;
  }

  ImageioClient client() {
    wm.stubFor(request("OPTIONS", urlEqualTo(IMAGE)).willReturn(okJson(WRITE_OPTIONS)));
    return new ImageioClient(http, url(), null, false);
  }

  static void noSecrets(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      assertThat(String.valueOf(t.getMessage())).doesNotContain(TICKET).doesNotContain("\n");
    }
  }

  byte[] randomFile(Path p, int size) throws IOException {
    byte[] data = new byte[size];
    new Random(42).nextBytes(data);
    Files.write(p, data);
    return data;
  }

  @Test
  void optionsAreParsedAndCached() throws Exception {
    ImageioClient c = client();
    assertThat(c.options())
        .isEqualTo(new ImageioOptions(Set.of("checksum", "extents", "flush", "zero"), 8, 8));
    assertThat(c.options().supports("zero")).isTrue();
    c.options();
    wm.verify(1, requestMadeFor(r -> com.github.tomakehurst.wiremock.matching.MatchResult.of(
        r.getMethod().value().equals("OPTIONS"))));
  }

  @Test
  void optionsWithoutLimitsMeanOneConnection() throws Exception {
    wm.stubFor(request("OPTIONS", urlEqualTo(IMAGE))
        .willReturn(okJson("{\"features\":[\"extents\"]}")));
    ImageioOptions o = new ImageioClient(http, url(), null, false).options();
    assertThat(o).isEqualTo(new ImageioOptions(Set.of("extents"), 1, 1));
  }

  @Test
  void options405MeansNoFeaturesAndOneWriter() throws Exception {
    wm.stubFor(request("OPTIONS", urlEqualTo(IMAGE))
        .willReturn(aResponse().withStatus(405).withBody("Method 'OPTIONS' not defined\n")));
    ImageioClient c = new ImageioClient(http, url(), null, false);
    ImageioOptions o = c.options();
    assertThat(o.features()).isEmpty();
    assertThat(o.maxWriters()).isEqualTo(1);
    assertThat(o.maxReaders()).isEqualTo(1);
    // Without the feature, extents and checksum are not even asked for.
    assertThat(c.extents()).isEmpty();
    assertThat(c.checksum()).isEmpty();
    assertThat(wm.findAll(getRequestedFor(anyUrl()))).isEmpty();
  }

  @Test
  void options204MeansNoFeatures() throws Exception {
    wm.stubFor(request("OPTIONS", urlEqualTo(IMAGE)).willReturn(aResponse().withStatus(204)));
    assertThat(new ImageioClient(http, url(), null, false).options()).isEqualTo(ImageioOptions.LEGACY);
  }

  @Test
  void fallsBackToTheProxyWhenTheHostRefusesConnections() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      closedPort = s.getLocalPort();
    }
    String dead = "http://127.0.0.1:" + closedPort + IMAGE;
    wm.stubFor(request("OPTIONS", urlEqualTo(IMAGE)).willReturn(okJson(WRITE_OPTIONS)));
    wm.stubFor(put(urlEqualTo(IMAGE + "?flush=n")).willReturn(aResponse().withStatus(200)));
    ImageioClient c = new ImageioClient(http, dead, url(), false);
    assertThat(c.usingProxy()).isFalse();
    assertThat(c.options().maxWriters()).isEqualTo(8);
    assertThat(c.usingProxy()).isTrue();
    c.write(0, new byte[] {1, 2, 3});
    wm.verify(1, putRequestedFor(urlEqualTo(IMAGE + "?flush=n")));
  }

  @Test
  void useProxyGoesStraightToTheProxy() throws Exception {
    wm.stubFor(request("OPTIONS", urlEqualTo(IMAGE)).willReturn(okJson(WRITE_OPTIONS)));
    ImageioClient c = new ImageioClient(http, "http://192.0.2.1:9" + IMAGE, url(), true);
    assertThat(c.usingProxy()).isTrue();
    assertThat(c.options().maxReaders()).isEqualTo(8);
  }

  @Test
  void unreachableWithoutProxyIsAnIOExceptionWithoutTheTicket() throws Exception {
    int closedPort;
    try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
      closedPort = s.getLocalPort();
    }
    ImageioClient c = new ImageioClient(http, "http://127.0.0.1:" + closedPort + IMAGE, null, false);
    assertThatThrownBy(c::options).isInstanceOf(IOException.class).satisfies(ImageioClientTest::noSecrets);
  }

  @Test
  void putStreamsTheFileRegionWithExactLength() throws Exception {
    wm.stubFor(put(urlEqualTo(IMAGE + "?flush=n")).willReturn(aResponse().withStatus(200)));
    ImageioClient c = client();
    Path f = dir.resolve("src.img");
    byte[] data = randomFile(f, 1 << 20);
    int srcOffset = 1000;
    int length = 300_000;
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
      c.write(4096, ch, srcOffset, length, ByteBuffer.allocateDirect(64 * 1024));
    }
    List<LoggedRequest> puts = wm.findAll(putRequestedFor(urlEqualTo(IMAGE + "?flush=n")));
    assertThat(puts).hasSize(1);
    LoggedRequest r = puts.get(0);
    assertThat(r.getHeader("Content-Range")).isEqualTo("bytes 4096-" + (4096 + length - 1) + "/*");
    assertThat(r.getHeader("Content-Length")).isEqualTo(Integer.toString(length));
    assertThat(r.getHeader("Content-Type")).isEqualTo("application/octet-stream");
    assertThat(r.containsHeader("Transfer-Encoding")).isFalse();
    assertThat(r.getBody()).isEqualTo(Arrays.copyOfRange(data, srcOffset, srcOffset + length));
  }

  @Test
  void putOfAByteArray() throws Exception {
    wm.stubFor(put(urlEqualTo(IMAGE + "?flush=n")).willReturn(aResponse().withStatus(200)));
    ImageioClient c = client();
    c.write(10, "hello".getBytes());
    LoggedRequest r = wm.findAll(putRequestedFor(urlEqualTo(IMAGE + "?flush=n"))).get(0);
    assertThat(r.getHeader("Content-Range")).isEqualTo("bytes 10-14/*");
    assertThat(r.getHeader("Content-Length")).isEqualTo("5");
    assertThat(r.containsHeader("Transfer-Encoding")).isFalse();
    assertThat(r.getBodyAsString()).isEqualTo("hello");
  }

  @Test
  void putErrorsAreMapped() throws Exception {
    ImageioClient c = client();
    wm.stubFor(put(urlEqualTo(IMAGE + "?flush=n")).willReturn(aResponse().withStatus(403)
        .withHeader("Connection", "close")
        .withBody("You are not allowed to access this resource: No such ticket " + TICKET + "\n")));
    assertThatThrownBy(() -> c.write(0, new byte[10]))
        .isInstanceOfSatisfying(org.diskferry.transfer.SessionLostException.class, e ->
          assertThat(e.getMessage()).isEqualTo(
              "imageio refused the transfer ticket (expired or cancelled) at /images/<ticket>"));

    wm.stubFor(put(urlEqualTo(IMAGE + "?flush=n")).willReturn(aResponse().withStatus(416)
        .withBody("Requested range out of allowed range\n")));
    assertThatThrownBy(() -> c.write(1024, new byte[10]))
        .isInstanceOfSatisfying(DiskferryException.class, e ->
          assertThat(e.getMessage()).isEqualTo("range 1024-1033 is beyond the end of the disk"));

    wm.stubFor(put(urlEqualTo(IMAGE + "?flush=n")).willReturn(aResponse().withStatus(400)
        .withBody("Invalid Content-Range 'bytes 0-1'\nmore\n")));
    assertThatThrownBy(() -> c.write(0, new byte[10]))
        .isInstanceOfSatisfying(DiskferryException.class, e ->
          assertThat(e.getMessage())
              .isEqualTo("imageio rejected PUT /images/<ticket>: Invalid Content-Range 'bytes 0-1'"));

    wm.stubFor(put(urlEqualTo(IMAGE + "?flush=n")).willReturn(aResponse().withStatus(500)
        .withBody("Server failed to perform the request, check logs\n")));
    assertThatThrownBy(() -> c.write(0, new byte[10]))
        .isInstanceOfSatisfying(ImageioException.class, e -> {
          assertThat(e.status()).isEqualTo(500);
          assertThat(e.getMessage()).isEqualTo(
              "imageio error 500 on PUT /images/<ticket>: Server failed to perform the request,"
                  + " check logs");
        });
  }

  @Test
  void getWritesTheRangeAtTheDestinationOffset() throws Exception {
    byte[] payload = new byte[200_000];
    new Random(7).nextBytes(payload);
    wm.stubFor(get(urlEqualTo(IMAGE)).withHeader("Range", equalTo("bytes=65536-265535"))
        .willReturn(aResponse().withStatus(206)
            .withHeader("Content-Range", "bytes 65536-265535/1073741824")
            .withHeader("Content-Type", "application/octet-stream")
            .withBody(payload)));
    ImageioClient c = client();
    Path f = dir.resolve("dst.img");
    try (UncachedFile ch = UncachedFile.open(f)) {
      c.read(65536, 200_000, ch, 100, ByteBuffer.allocateDirect(16 * 1024));
    }
    byte[] got = Files.readAllBytes(f);
    assertThat(got).hasSize(100 + 200_000);
    assertThat(Arrays.copyOfRange(got, 100, got.length)).isEqualTo(payload);
  }

  /**
   * A write to a full device (/dev/full answers every write with ENOSPC, as a full file system
   * does) is a local failure, not an I/O failure of the request: no retry loop may take it for a
   * network error.
   */
  @Test
  void aLocalWriteFailureIsNotAnIOExceptionAndNamesTheFile() throws Exception {
    Path full = Path.of("/dev/full");
    org.junit.jupiter.api.Assumptions.assumeTrue(Files.isWritable(full), "no writable /dev/full");
    wm.stubFor(get(urlEqualTo(IMAGE)).willReturn(aResponse().withStatus(206)
        .withHeader("Content-Range", "bytes 0-65535/1048576").withBody(new byte[65536])));
    ImageioClient c = client();
    try (UncachedFile ch = UncachedFile.open(full)) {
      assertThatThrownBy(() -> c.read(0, 65536, ch, 0, UncachedFile.allocate(16 * 1024)))
          .isInstanceOfSatisfying(org.diskferry.transfer.LocalWriteException.class, e -> {
            assertThat(e).isNotInstanceOf(IOException.class);
            assertThat(e.kind()).isEqualTo(DiskferryException.Kind.FAILED);
            assertThat(e.getMessage())
                .isEqualTo("cannot write /dev/full: No space left on device");
            assertThat(e.diskFull()).isTrue();
          });
    }
  }

  @Test
  void getInsistsOn206() throws Exception {
    wm.stubFor(get(urlEqualTo(IMAGE)).willReturn(aResponse().withStatus(200).withBody(new byte[10])));
    ImageioClient c = client();
    try (UncachedFile ch = UncachedFile.open(dir.resolve("x"))) {
      assertThatThrownBy(() -> c.read(0, 10, ch, 0, ByteBuffer.allocate(4096)))
          .isInstanceOf(IOException.class)
          .isNotInstanceOf(ImageioException.class)
          .hasMessageContaining("/images/<ticket>")
          .hasMessageContaining("206")
          .satisfies(ImageioClientTest::noSecrets);
    }
  }

  @Test
  void getInsistsOnTheExactContentLength() throws Exception {
    wm.stubFor(get(urlEqualTo(IMAGE)).willReturn(aResponse().withStatus(206)
        .withHeader("Content-Range", "bytes 0-8/100").withBody(new byte[9])));
    ImageioClient c = client();
    try (UncachedFile ch = UncachedFile.open(dir.resolve("x"))) {
      assertThatThrownBy(() -> c.read(0, 10, ch, 0, ByteBuffer.allocate(4096)))
          .isInstanceOf(IOException.class)
          .hasMessage("GET /images/<ticket>: expected Content-Length 10 for bytes 0-9 but the"
              + " server sent 9");
    }
  }

  @Test
  void getBeyondTheEndIs416() throws Exception {
    wm.stubFor(get(urlEqualTo(IMAGE)).willReturn(aResponse().withStatus(416)
        .withHeader("Content-Range", "bytes */100").withBody("Requested range out of allowed range\n")));
    ImageioClient c = client();
    try (UncachedFile ch = UncachedFile.open(dir.resolve("x"))) {
      assertThatThrownBy(() -> c.read(100, 10, ch, 0, ByteBuffer.allocate(4096)))
          .isInstanceOfSatisfying(DiskferryException.class, e ->
              assertThat(e.getMessage()).isEqualTo("range 100-109 is beyond the end of the disk"));
    }
  }

  @Test
  void zeroIsSplitIntoRequestsOfAtMost128MiB() throws Exception {
    wm.stubFor(patch(urlEqualTo(IMAGE)).willReturn(aResponse().withStatus(200)));
    ImageioClient c = client();
    long mib = 1L << 20;
    c.zero(mib, 300 * mib);
    List<LoggedRequest> reqs = wm.findAll(patchRequestedFor(urlEqualTo(IMAGE)));
    assertThat(reqs).hasSize(3);
    long[][] expected = {{mib, 128 * mib}, {129 * mib, 128 * mib}, {257 * mib, 44 * mib}};
    for (int i = 0; i < 3; i++) {
      assertThat(reqs.get(i).getHeader("Content-Type")).isEqualTo("application/json");
      assertThat(reqs.get(i).getHeader("Content-Length"))
          .isEqualTo(Integer.toString(reqs.get(i).getBody().length));
      JsonNode body = Json.mapper().readTree(reqs.get(i).getBodyAsString());
      assertThat(body).isEqualTo(Json.mapper().readTree(
          "{\"op\":\"zero\",\"offset\":" + expected[i][0] + ",\"size\":" + expected[i][1]
              + ",\"flush\":false}"));
    }
  }

  @Test
  void flushSendsTheFlushOp() throws Exception {
    wm.stubFor(patch(urlEqualTo(IMAGE)).willReturn(aResponse().withStatus(200)));
    ImageioClient c = client();
    c.flush();
    LoggedRequest r = wm.findAll(patchRequestedFor(urlEqualTo(IMAGE))).get(0);
    assertThat(Json.mapper().readTree(r.getBodyAsString()))
        .isEqualTo(Json.mapper().readTree("{\"op\":\"flush\"}"));
  }

  @Test
  void patchForbiddenIsMappedWithoutTheTicket() throws Exception {
    wm.stubFor(patch(urlEqualTo(IMAGE)).willReturn(aResponse().withStatus(403)
        .withBody("You are not allowed to access this resource: Transfer=" + TICKET + " expired\n")));
    ImageioClient c = client();
    assertThatThrownBy(c::flush)
        .isInstanceOfSatisfying(org.diskferry.transfer.SessionLostException.class, e ->
          assertThat(e.getMessage()).contains("/images/<ticket>"))
        .satisfies(ImageioClientTest::noSecrets);
  }

  @Test
  void extentsAndChecksum() throws Exception {
    wm.stubFor(get(urlEqualTo(IMAGE + "/extents")).willReturn(okJson(
        "[{\"start\":0,\"length\":2097152,\"zero\":true,\"hole\":true},"
            + "{\"start\":2097152,\"length\":1048576,\"zero\":false,\"hole\":false}]")));
    wm.stubFor(get(urlEqualTo(IMAGE + "/checksum")).willReturn(okJson(
        "{\"algorithm\":\"blake2b\",\"block_size\":4194304,\"checksum\":\"abcd\"}")));
    wm.stubFor(get(urlEqualTo(IMAGE + "/checksum?algorithm=sha256&block_size=1048576"))
        .willReturn(okJson("{\"algorithm\":\"sha256\",\"block_size\":\"1048576\",\"checksum\":\"ef\"}")));
    ImageioClient c = client();
    assertThat(c.extents()).contains(List.of(
        new Extent(0, 2097152, true, true), new Extent(2097152, 1048576, false, false)));
    assertThat(c.checksum()).contains(new ImageChecksum("blake2b", 4194304, "abcd"));
    assertThat(c.checksum("sha256", 1048576L)).contains(new ImageChecksum("sha256", 1048576, "ef"));
  }

  @Test
  void extentsAndChecksumMayBeMissing() throws Exception {
    wm.stubFor(get(urlEqualTo(IMAGE + "/extents")).willReturn(aResponse().withStatus(404)
        .withBody("No handler\n")));
    wm.stubFor(get(urlEqualTo(IMAGE + "/checksum")).willReturn(aResponse().withStatus(405)));
    ImageioClient c = client();
    assertThat(c.extents()).isEqualTo(Optional.empty());
    assertThat(c.checksum()).isEqualTo(Optional.empty());
  }

  @Test
  void keepAliveSendsOptions() throws Exception {
    ImageioClient c = client();
    c.options();
    c.keepAlive();
    c.keepAlive();
    assertThat(wm.findAll(anyRequestedFor(urlEqualTo(IMAGE))))
        .extracting(r -> r.getMethod().value())
        .containsExactly("OPTIONS", "OPTIONS", "OPTIONS");
  }

  @Test
  void untrustedCertificateIsAuth() throws Exception {
    com.github.tomakehurst.wiremock.WireMockServer tls =
        new com.github.tomakehurst.wiremock.WireMockServer(
            wireMockConfig().httpDisabled(true).dynamicHttpsPort().bindAddress("127.0.0.1"));
    tls.start();
    try {
      String tlsUrl = "https://127.0.0.1:" + tls.httpsPort() + IMAGE;
      ImageioClient c = new ImageioClient(http, tlsUrl, null, false);
      assertThatThrownBy(c::options)
          .isInstanceOfSatisfying(DiskferryException.class, e -> {
            assertThat(e.kind()).isEqualTo(DiskferryException.Kind.AUTH);
            assertThat(e.getMessage()).startsWith(
                "the TLS certificate of 127.0.0.1:" + tls.httpsPort() + " is not trusted; pass"
                    + " --cafile with the engine CA");
          })
          .satisfies(ImageioClientTest::noSecrets);
    } finally {
      tls.stop();
    }
  }
}
