package org.diskferry.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import okhttp3.Headers;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okhttp3.tls.Certificates;
import okhttp3.tls.HandshakeCertificates;
import org.diskferry.http.Json;

/** A small OkHttp-based client for tests: trusts the sandbox CA, logs in with SSO. */
final class TestClient implements AutoCloseable {
  static final MediaType JSON = MediaType.get("application/json");
  final Sandbox sb;
  final OkHttpClient http;
  String token;

  record Resp(int code, Headers headers, byte[] bytes) {
    String body() {
      return new String(bytes, java.nio.charset.StandardCharsets.UTF_8);
    }

    JsonNode json() {
      try {
        return Json.mapper().readTree(bytes);
      } catch (IOException e) {
        throw new AssertionError("not JSON: " + body(), e);
      }
    }

    String header(String name) {
      return headers.get(name);
    }
  }

  TestClient(Sandbox sb) throws IOException {
    this.sb = sb;
    OkHttpClient.Builder b = new OkHttpClient.Builder()
        .readTimeout(Duration.ofSeconds(20))
        .retryOnConnectionFailure(false);
    if (sb.caFile() != null) {
      HandshakeCertificates hc = new HandshakeCertificates.Builder()
          .addTrustedCertificate(Certificates.decodeCertificatePem(Files.readString(sb.caFile())))
          .build();
      b.sslSocketFactory(hc.sslSocketFactory(), hc.trustManager());
    }
    this.http = b.build();
  }

  static SandboxConfig fastConfig() {
    return SandboxConfig.defaults()
        .withTick(Duration.ofMillis(20))
        .withDiskReadyDelay(Duration.ofMillis(100))
        .withCleanupDelay(Duration.ofMillis(400));
  }

  Resp call(Request.Builder rb) throws IOException {
    try (Response r = http.newCall(rb.build()).execute()) {
      return new Resp(r.code(), r.headers(), r.body().bytes());
    }
  }

  String login() throws IOException {
    Resp r = call(new Request.Builder()
        .url(sb.engineUrl() + "/ovirt-engine/sso/oauth/token")
        .header("Accept", "application/json")
        .post(RequestBody.create(
            "grant_type=password&scope=ovirt-app-api&username=admin%40internal&password="
                + java.net.URLEncoder.encode(sb.password(), java.nio.charset.StandardCharsets.UTF_8),
            MediaType.get("application/x-www-form-urlencoded"))));
    assertThat(r.code()).as(r.body()).isEqualTo(200);
    token = r.json().get("access_token").asText();
    return token;
  }

  private Request.Builder api(String path) {
    Request.Builder rb = new Request.Builder()
        .url(sb.engineUrl() + "/ovirt-engine/api" + path)
        .header("Accept", "application/json")
        .header("Version", "4");
    if (token != null) {
      rb.header("Authorization", "Bearer " + token);
    }
    return rb;
  }

  Resp get(String path) throws IOException {
    return call(api(path).get());
  }

  Resp post(String path, String json) throws IOException {
    return call(api(path).post(RequestBody.create(json, JSON)));
  }

  Resp post(String path, String json, String headerName, String headerValue) throws IOException {
    return call(api(path).header(headerName, headerValue).post(RequestBody.create(json, JSON)));
  }

  Resp delete(String path) throws IOException {
    return call(api(path).delete());
  }

  /** Creates a disk on "data" and waits until it is ok. */
  String createDisk(String format, long size) throws IOException {
    return createDisk(format, size, true, "data");
  }

  String createDisk(String format, long size, boolean sparse, String sd) throws IOException {
    Resp r = post("/disks", "{\"name\":\"t\",\"format\":\"" + format + "\",\"provisioned_size\":" + size
        + ",\"sparse\":" + sparse + ",\"storage_domains\":{\"storage_domain\":[{\"name\":\"" + sd + "\"}]}}");
    assertThat(r.code()).as(r.body()).isEqualTo(202);
    String id = r.json().get("id").asText();
    await(() -> "ok".equals(sb.diskStatus(id).orElse(null)), Duration.ofSeconds(5));
    return id;
  }

  JsonNode createTransfer(String diskId, String direction, String extraJson) throws IOException {
    Resp r = post("/imagetransfers", "{\"disk\":{\"id\":\"" + diskId + "\"},\"direction\":\"" + direction
        + "\"" + (extraJson == null ? "" : "," + extraJson) + "}");
    assertThat(r.code()).as(r.body()).isEqualTo(201);
    return r.json();
  }

  String phase(String transferId) throws IOException {
    Resp r = get("/imagetransfers/" + transferId);
    return r.code() == 404 ? "404" : r.json().get("phase").asText();
  }

  static void await(BooleanSupplier cond, Duration timeout) {
    long end = System.nanoTime() + timeout.toNanos();
    while (!cond.getAsBoolean()) {
      if (System.nanoTime() > end) {
        throw new AssertionError("condition not met within " + timeout);
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }

  interface IoSupplier<T> {
    T get() throws IOException;
  }

  static <T> T awaitValue(IoSupplier<T> s, java.util.function.Predicate<T> cond, Duration timeout)
      throws IOException {
    long end = System.nanoTime() + timeout.toNanos();
    while (true) {
      T v = s.get();
      if (cond.test(v)) {
        return v;
      }
      if (System.nanoTime() > end) {
        throw new AssertionError("last value " + v + " did not meet the condition within " + timeout);
      }
      try {
        Thread.sleep(10);
      } catch (InterruptedException e) {
        throw new AssertionError(e);
      }
    }
  }

  @Override
  public void close() {
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
    try {
      http.dispatcher().executorService().awaitTermination(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
