package org.diskferry.ovirt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import okhttp3.OkHttpClient;
import okio.Buffer;
import org.diskferry.http.HttpClientFactory;
import org.diskferry.http.TlsOptions;
import org.diskferry.transfer.UncachedFile;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Connection-level behaviour: resending a PUT on a dropped keep-alive connection, short bodies. */
class ImageioConnectionTest {

  static final String TICKET = ImageioClientTest.TICKET;
  static final byte[] NO_BODY = new byte[0];

  @TempDir Path dir;

  final OkHttpClient http = HttpClientFactory.create(TlsOptions.system(), null);

  @AfterEach
  void shutDown() {
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
  }

  @Test
  void fileRegionBodyIsExactAndReplayable() throws Exception {
    Path f = dir.resolve("src");
    byte[] data = new byte[100_000];
    new Random(1).nextBytes(data);
    Files.write(f, data);
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
      FileRegionBody body = new FileRegionBody(ch, 123, 50_000, ByteBuffer.allocateDirect(4096));
      assertThat(body.contentLength()).isEqualTo(50_000);
      assertThat(body.isOneShot()).isFalse();
      for (int i = 0; i < 2; i++) {
        Buffer sink = new Buffer();
        body.writeTo(sink);
        assertThat(sink.readByteArray()).isEqualTo(Arrays.copyOfRange(data, 123, 50_123));
      }
      FileRegionBody pastEnd = new FileRegionBody(ch, 90_000, 20_000, ByteBuffer.allocate(4096));
      assertThatThrownBy(() -> pastEnd.writeTo(new Buffer())).isInstanceOf(IOException.class);
    }
  }

  @Test
  void putIsResentWhenTheServerDropsAKeepAliveConnection() throws Exception {
    byte[] ok = ScriptedHttpServer.response("200 OK", "Content-Length: 0\r\n", NO_BODY);
    byte[] noOptions =
        ScriptedHttpServer.response("405 Method Not Allowed", "Content-Length: 0\r\n", NO_BODY);
    // 1: OPTIONS, 2: first PUT, 3: second PUT read and dropped (idle timeout), 4: its resend.
    try (ScriptedHttpServer server =
        new ScriptedHttpServer((index, line) -> index == 1 ? noOptions : index == 3 ? null : ok)) {
      Path f = dir.resolve("src");
      byte[] data = new byte[256 * 1024];
      new Random(2).nextBytes(data);
      Files.write(f, data);
      ImageioClient c = new ImageioClient(
          http, "http://127.0.0.1:" + server.port() + "/images/" + TICKET, null, false);
      ByteBuffer buf = ByteBuffer.allocateDirect(32 * 1024);
      try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
        c.write(0, ch, 0, 100_000, buf);
        c.write(100_000, ch, 100_000, 156_144, buf);
      }
      List<ScriptedHttpServer.Received> got = server.received;
      assertThat(got).hasSize(4);
      assertThat(got.get(0).requestLine()).startsWith("OPTIONS /images/" + TICKET + " ");
      assertThat(got.get(2).requestLine()).startsWith("PUT /images/" + TICKET + "?flush=n ");
      assertThat(got.get(3).requestLine()).isEqualTo(got.get(2).requestLine());
      assertThat(got.get(2).connection()).isEqualTo(got.get(1).connection());
      assertThat(got.get(3).connection()).isNotEqualTo(got.get(2).connection());
      byte[] second = Arrays.copyOfRange(data, 100_000, 256_144);
      assertThat(got.get(2).body()).isEqualTo(second);
      assertThat(got.get(3).body()).isEqualTo(second);
    }
  }

  @Test
  void getFailsWhenTheBodyEndsEarly() throws Exception {
    byte[] noOptions =
        ScriptedHttpServer.response("405 Method Not Allowed", "Content-Length: 0\r\n", NO_BODY);
    byte[] shortBody =
        ScriptedHttpServer.response(
            "206 Partial Content",
            "Content-Range: bytes 0-9999/1000000\r\nContent-Length: 10000\r\n"
                + "Connection: close\r\n",
            new byte[4000]);
    try (ScriptedHttpServer server =
        new ScriptedHttpServer((index, line) -> index == 1 ? noOptions : shortBody)) {
      ImageioClient c = new ImageioClient(
          http, "http://127.0.0.1:" + server.port() + "/images/" + TICKET, null, false);
      try (UncachedFile ch = UncachedFile.open(dir.resolve("dst"))) {
        assertThatThrownBy(() -> c.read(0, 10_000, ch, 0, ByteBuffer.allocate(1024)))
            .isInstanceOf(IOException.class)
            .hasMessageStartingWith("GET /images/<ticket>: received 4000 of 10000 bytes")
            .satisfies(e -> assertThat(e.getMessage()).doesNotContain(TICKET));
      }
    }
  }
}
