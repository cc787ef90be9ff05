package org.diskferry.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.SSLServerSocket;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.Response;
import okhttp3.tls.HandshakeCertificates;
import okhttp3.tls.HeldCertificate;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The clients set no read timeout in OkHttp (its per-read watchdog is costly) and time reads out
 * in the socket instead: a server that stops sending must still fail the request, over plain HTTP
 * and over TLS, after headers and in the middle of a body.
 */
class ReadTimeoutTest {

  private ServerSocket server;
  private Thread thread;
  private final CountDownLatch release = new CountDownLatch(1);

  @AfterEach
  void stop() throws Exception {
    release.countDown();
    if (server != null) {
      server.close();
    }
    if (thread != null) {
      thread.join(5_000);
    }
  }

  /** Serves one connection: answers with headers and part of the body if asked, then goes quiet. */
  private int serveOnce(ServerSocket ss, boolean partialBody) {
    server = ss;
    thread = new Thread(() -> {
      try (Socket s = ss.accept()) {
        InputStream in = s.getInputStream();
        byte[] buf = new byte[8192];
        StringBuilder req = new StringBuilder();
        while (!req.toString().contains("\r\n\r\n")) {
          int n = in.read(buf);
          if (n < 0) {
            return;
          }
          req.append(new String(buf, 0, n, StandardCharsets.ISO_8859_1));
        }
        if (partialBody) {
          OutputStream out = s.getOutputStream();
          out.write("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\nhello"
              .getBytes(StandardCharsets.ISO_8859_1));
          out.flush();
        }
        release.await(30, TimeUnit.SECONDS);
      } catch (IOException | InterruptedException e) {
        // the test is over
      }
    }, "silent-server");
    thread.setDaemon(true);
    thread.start();
    return ss.getLocalPort();
  }

  private static ServerSocket plain() throws IOException {
    return new ServerSocket(0, 1, InetAddress.getLoopbackAddress());
  }

  @Test
  void plainHttpServerThatNeverAnswers() throws Exception {
    int port = serveOnce(plain(), false);
    OkHttpClient client = HttpClientFactory.create(TlsOptions.system(), null, 300);
    long start = System.nanoTime();
    assertThatThrownBy(() -> client.newCall(
            new Request.Builder().url("http://127.0.0.1:" + port + "/").build()).execute())
        .isInstanceOf(SocketTimeoutException.class);
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isBetween(250L, 10_000L);
  }

  @Test
  void plainHttpBodyThatStops() throws Exception {
    int port = serveOnce(plain(), true);
    OkHttpClient client = HttpClientFactory.create(TlsOptions.system(), null, 300);
    try (Response r = client.newCall(
        new Request.Builder().url("http://127.0.0.1:" + port + "/").build()).execute()) {
      assertThat(r.code()).isEqualTo(200);
      assertThatThrownBy(() -> r.body().bytes()).isInstanceOf(SocketTimeoutException.class);
    }
  }

  @Test
  void tlsBodyThatStops(@TempDir Path dir) throws Exception {
    HeldCertificate ca = new HeldCertificate.Builder().certificateAuthority(0).build();
    HeldCertificate cert = new HeldCertificate.Builder().signedBy(ca).addSubjectAlternativeName(
        "127.0.0.1").build();
    HandshakeCertificates serverCerts =
        new HandshakeCertificates.Builder().heldCertificate(cert, ca.certificate()).build();
    Path caFile = dir.resolve("ca.pem");
    Files.writeString(caFile, ca.certificatePem());
    SSLServerSocket ss = (SSLServerSocket) serverCerts.sslContext().getServerSocketFactory()
        .createServerSocket(0, 1, InetAddress.getLoopbackAddress());
    int port = serveOnce(ss, true);
    OkHttpClient client = HttpClientFactory.create(TlsOptions.caFile(caFile), null, 300);
    long start = System.nanoTime();
    try (Response r = client.newCall(
        new Request.Builder().url("https://127.0.0.1:" + port + "/").build()).execute()) {
      assertThat(r.code()).isEqualTo(200);
      assertThatThrownBy(() -> r.body().bytes()).isInstanceOf(SocketTimeoutException.class);
    }
    assertThat(TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start)).isLessThan(10_000L);
  }

  @Test
  void everyWayToOpenASocketConnectsOne() throws Exception {
    try (ServerSocket ss = plain()) {
      ClientSockets f = new ClientSockets(1_000);
      InetAddress lo = InetAddress.getLoopbackAddress();
      int port = ss.getLocalPort();
      for (int way = 0; way < 4; way++) {
        Socket s = switch (way) {
          case 0 -> f.createSocket("127.0.0.1", port);
          case 1 -> f.createSocket(lo, port);
          case 2 -> f.createSocket("127.0.0.1", port, lo, 0);
          default -> f.createSocket(lo, port, lo, 0);
        };
        try (s; Socket accepted = ss.accept()) {
          assertThat(s.isConnected()).isTrue();
          assertThat(s.getTcpNoDelay()).isTrue();
          assertThat(s.getSoTimeout()).isEqualTo(1_000);
        }
      }
    }
  }

  @Test
  void theDefaultIsAMinuteAndNoNagle() throws Exception {
    try (Socket s = new ClientSockets(60_000).createSocket()) {
      assertThat(s.getTcpNoDelay()).isTrue();
      s.setSoTimeout(0); // what OkHttp asks for when it has no read timeout of its own
      assertThat(s.getSoTimeout()).isEqualTo(60_000);
      s.setSoTimeout(5);
      assertThat(s.getSoTimeout()).isEqualTo(5);
    }
  }
}
