package org.diskferry.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Base64;
import java.util.List;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;
import org.diskferry.sandbox.TestClient.Resp;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EngineApiTest {
  Sandbox sb;
  TestClient c;

  @BeforeEach
  void start() throws Exception {
    sb = Sandbox.start(TestClient.fastConfig());
    c = new TestClient(sb);
  }

  @AfterEach
  void stop() {
    c.close();
    sb.close();
  }

  private Resp token(String accept, String form) throws Exception {
    Request.Builder rb = new Request.Builder().url(sb.engineUrl() + "/ovirt-engine/sso/oauth/token")
        .post(RequestBody.create(form, MediaType.get("application/x-www-form-urlencoded")));
    if (accept != null) {
      rb.header("Accept", accept);
    }
    return c.call(rb);
  }

  @Test
  void ssoTokenAndErrorShapes() throws Exception {
    Resp ok = token("application/json", "grant_type=password&scope=ovirt-app-api&username=admin%40internal&password=" + sb.password());
    assertThat(ok.code()).isEqualTo(200);
    JsonNode j = ok.json();
    assertThat(j.get("access_token").asText()).isNotEmpty();
    assertThat(j.get("exp").isTextual()).isTrue();
    assertThat(j.get("token_type").asText()).isEqualTo("bearer");

    Resp badAccept = token("application/json, text/plain", "grant_type=password&scope=ovirt-app-api&username=admin%40internal&password=" + sb.password());
    assertThat(badAccept.code()).isEqualTo(400);
    assertThat(badAccept.json().get("error").asText()).isEqualTo("invalid_request");
    assertThat(token(null, "grant_type=password&scope=ovirt-app-api&username=admin%40internal&password=x").code()).isEqualTo(400);

    Resp denied = token("application/json", "grant_type=password&scope=ovirt-app-api&username=admin%40internal&password=wrong");
    assertThat(denied.code()).isEqualTo(400);
    assertThat(denied.json().get("error_code").asText()).isEqualTo("access_denied");
    assertThat(denied.json().get("error").asText()).isNotEmpty();

    Resp otherScope = token("application/json", "grant_type=password&scope=openid&username=admin%40internal&password=wrong");
    assertThat(otherScope.code()).isEqualTo(400);
    assertThat(otherScope.json().get("error").asText()).isEqualTo("access_denied");
    assertThat(otherScope.json().has("error_description")).isTrue();
  }

  @Test
  void unauthenticatedIs401WithHtml() throws Exception {
    Resp r = c.get("/disks");
    assertThat(r.code()).isEqualTo(401);
    assertThat(r.header("WWW-Authenticate")).isEqualTo("Basic realm=\"RESTAPI\"");
    assertThat(r.header("Content-Type")).startsWith("text/html");
    assertThat(r.body()).startsWith("<html>");

    c.token = "bogus";
    assertThat(c.get("/disks").code()).isEqualTo(401);

    String token = c.login();
    assertThat(c.get("/disks").code()).isEqualTo(200);
    Resp logout = c.call(new Request.Builder().url(sb.engineUrl() + "/ovirt-engine/services/sso-logout")
        .header("Accept", "application/json")
        .post(RequestBody.create("scope=ovirt-app-api&token=" + token, MediaType.get("application/x-www-form-urlencoded"))));
    assertThat(logout.code()).isEqualTo(200);
    assertThat(logout.json().size()).isZero();
    assertThat(c.get("/disks").code()).isEqualTo(401);

    c.token = null;
    String basic = Base64.getEncoder().encodeToString(("admin@internal:" + sb.password()).getBytes(StandardCharsets.UTF_8));
    Resp b = c.call(new Request.Builder().url(sb.engineUrl() + "/ovirt-engine/api/hosts")
        .header("Accept", "application/json").header("Authorization", "Basic " + basic));
    assertThat(b.code()).isEqualTo(200);
    assertThat(b.json().get("host").get(0).get("status").asText()).isEqualTo("up");
  }

  @Test
  void pkiResourceAndVersion() throws Exception {
    Resp pem = c.call(new Request.Builder().url(sb.engineUrl()
        + "/ovirt-engine/services/pki-resource?resource=ca-certificate&format=X509-PEM-CA"));
    assertThat(pem.code()).isEqualTo(200);
    assertThat(pem.body().trim()).isEqualTo(Files.readString(sb.caFile()).trim());
    assertThat(pem.body()).startsWith("-----BEGIN CERTIFICATE-----");
    c.login();
    assertThat(c.call(new Request.Builder().url(sb.engineUrl() + "/ovirt-engine/api")
        .header("Authorization", "Bearer " + c.token).header("Version", "3")).code()).isEqualTo(400);
    assertThat(c.get("").json().get("product_info").get("version").get("major").asText()).isEqualTo("4");
    assertThat(c.call(new Request.Builder().url(sb.engineUrl() + "/ovirt-engine/api/v4/hosts")
        .header("Authorization", "Bearer " + c.token)).code()).isEqualTo(200);
  }

  @Test
  void environmentIsOrdered() {
    assertThat(List.copyOf(sb.environment().keySet())).containsExactly("DISKFERRY_ENGINE_URL",
        "DISKFERRY_USERNAME", "DISKFERRY_PASSWORD", "DISKFERRY_CAFILE", "DISKFERRY_STORAGE_DOMAIN");
    assertThat(sb.engineUrl()).startsWith("https://127.0.0.1:");
    assertThat(sb.username()).isEqualTo("admin@internal");
    assertThat(sb.caFile()).isEqualTo(sb.dataDir().resolve("ca.pem"));
  }

  @Test
  void storageDomainsSearchAndStringTypes() throws Exception {
    c.login();
    Resp all = c.get("/storagedomains");
    assertThat(all.json().get("storage_domain")).hasSize(2);
    Resp one = c.get("/storagedomains?search=name%3Ddata&case_sensitive=true");
    JsonNode sd = one.json().get("storage_domain");
    assertThat(sd).hasSize(1);
    assertThat(sd.get(0).get("name").asText()).isEqualTo("data");
    assertThat(sd.get(0).get("available").isTextual()).isTrue();
    assertThat(sd.get(0).get("master").asText()).isEqualTo("true");
    assertThat(sd.get(0).get("storage").get("type").asText()).isEqualTo("nfs");
    assertThat(sd.get(0).has("status")).isFalse();
    assertThat(c.get("/storagedomains?search=name%3Ddata-*").json().get("storage_domain").get(0)
        .get("storage").get("type").asText()).isEqualTo("iscsi");
    Resp none = c.get("/storagedomains?search=name%3Dnope");
    assertThat(none.code()).isEqualTo(200);
    assertThat(none.json().isObject()).isTrue();
    assertThat(none.json().size()).isZero();
    assertThat(c.get("/datacenters?search=storage.name%3Ddata&case_sensitive=true").json()
        .get("data_center").get(0).get("name").asText()).isEqualTo("dc1");
    assertThat(c.get("/disks").json().size()).isZero();
    assertThat(c.get("/storagedomains/" + sd.get(0).get("id").asText()).code()).isEqualTo(200);
    Resp missing = c.get("/storagedomains/00000000-0000-0000-0000-000000000000");
    assertThat(missing.code()).isEqualTo(404);
    assertThat(missing.body()).isEmpty();
  }

  @Test
  void diskCreateLockedThenOk() throws Exception {
    c.login();
    Resp r = c.post("/disks", "{\"name\":\"d1\",\"format\":\"raw\",\"provisioned_size\":\"1048576\","
        + "\"storage_domains\":{\"storage_domain\":[{\"name\":\"data\"}]}}");
    assertThat(r.code()).isEqualTo(202);
    JsonNode d = r.json();
    assertThat(d.get("status").asText()).isEqualTo("locked");
    assertThat(d.get("provisioned_size").asText()).isEqualTo("1048576");
    assertThat(d.get("sparse").asText()).isEqualTo("true");
    String id = d.get("id").asText();
    TestClient.awaitValue(() -> c.get("/disks/" + id).json().get("status").asText(), "ok"::equals, Duration.ofSeconds(3));
    assertThat(Files.size(sb.diskFile(id).orElseThrow())).isEqualTo(1048576);
    assertThat(c.get("/disks?search=name%3Dd1").json().get("disk")).hasSize(1);
    assertThat(c.get("/disks?search=name%3DD1&case_sensitive=false").json().get("disk")).hasSize(1);
    assertThat(c.get("/disks?search=name%3Dd2").json().size()).isZero();

    Resp created = c.post("/disks", "{\"name\":\"d2\",\"format\":\"cow\",\"provisioned_size\":1048576,"
        + "\"storage_domains\":{\"storage_domain\":[{\"name\":\"data\"}]}}", "Expect", "201-created");
    assertThat(created.code()).isEqualTo(201);
    assertThat(created.header("Location")).contains("/ovirt-engine/api/disks/" + created.json().get("id").asText());
    assertThat(created.json().get("status").asText()).isEqualTo("ok");
  }

  @Test
  void diskValidation() throws Exception {
    c.login();
    Resp missing = c.post("/disks", "{\"name\":\"x\",\"format\":\"raw\",\"storage_domains\":{\"storage_domain\":[{\"name\":\"data\"}]}}");
    assertThat(missing.code()).isEqualTo(400);
    assertThat(missing.json().get("reason").asText()).isEqualTo("Incomplete parameters");
    assertThat(missing.json().get("detail").asText()).contains("provisionedSize");

    Resp unknown = c.post("/disks", "{\"name\":\"x\",\"bogus\":1,\"format\":\"raw\",\"provisioned_size\":1}");
    assertThat(unknown.code()).isEqualTo(400);
    assertThat(unknown.json().get("reason").asText()).isEqualTo("Request syntactically incorrect.");
    assertThat(c.post("/disks", "{not json").json().get("reason").asText()).isEqualTo("Request syntactically incorrect.");

    Resp noSd = c.post("/disks", "{\"format\":\"raw\",\"provisioned_size\":1048576,\"storage_domains\":{\"storage_domain\":[{\"name\":\"nope\"}]}}");
    assertThat(noSd.code()).isEqualTo(404);
    assertThat(noSd.json().get("detail").asText()).isEqualTo("Entity not found: nope");

    Resp cowPrealloc = c.post("/disks", "{\"format\":\"cow\",\"sparse\":false,\"provisioned_size\":1048576,\"storage_domains\":{\"storage_domain\":[{\"name\":\"data\"}]}}");
    assertThat(cowPrealloc.code()).isEqualTo(409);
    assertThat(cowPrealloc.json().get("reason").asText()).isEqualTo("Operation Failed");
    assertThat(cowPrealloc.json().get("detail").asText()).startsWith("[").endsWith("]").contains("COW Preallocated");
    Resp rawSparseBlock = c.post("/disks", "{\"format\":\"raw\",\"sparse\":true,\"provisioned_size\":1048576,\"storage_domains\":{\"storage_domain\":[{\"name\":\"data-block\"}]}}");
    assertThat(rawSparseBlock.code()).isEqualTo(409);
    assertThat(c.post("/disks", "{\"format\":\"cow\",\"sparse\":false,\"backup\":\"incremental\",\"provisioned_size\":1048576,\"storage_domains\":{\"storage_domain\":[{\"name\":\"data\"}]}}").code()).isEqualTo(202);
    assertThat(c.post("/disks", "{\"format\":\"qcow9\",\"provisioned_size\":1048576,\"storage_domains\":{\"storage_domain\":[{\"name\":\"data\"}]}}").code()).isEqualTo(400);

    Resp notFound = c.get("/disks/7d0bdc3a-7a4d-4e37-9b0b-000000000000");
    assertThat(notFound.code()).isEqualTo(404);
    assertThat(notFound.body()).isEmpty();
    assertThat(c.get("/disks/not-a-uuid").code()).isEqualTo(404);
    assertThat(c.delete("/disks/not-a-uuid").code()).isEqualTo(404);
  }

  @Test
  void diskDelete() throws Exception {
    c.login();
    Resp r = c.post("/disks", "{\"format\":\"raw\",\"provisioned_size\":4096,\"storage_domains\":{\"storage_domain\":[{\"name\":\"data\"}]}}");
    String id = r.json().get("id").asText();
    Resp locked = c.delete("/disks/" + id);
    assertThat(locked.code()).isEqualTo(409);
    assertThat(locked.json().get("detail").asText()).contains("locked");
    TestClient.await(() -> "ok".equals(sb.diskStatus(id).orElse(null)), Duration.ofSeconds(3));
    Path file = sb.diskFile(id).orElseThrow();
    Resp del = c.delete("/disks/" + id);
    assertThat(del.code()).isEqualTo(200);
    assertThat(del.json().get("status").asText()).isEqualTo("complete");
    assertThat(Files.exists(file)).isFalse();
    assertThat(c.get("/disks/" + id).code()).isEqualTo(404);
    assertThat(c.delete("/disks/" + id).code()).isEqualTo(404);
  }

  @Test
  void disksPersistAcrossRestart(@TempDir Path dir) throws Exception {
    String id;
    String password;
    try (Sandbox first = Sandbox.start(TestClient.fastConfig().withDataDir(dir).withPlainHttp(true).withPassword("pw"));
        TestClient fc = new TestClient(first)) {
      fc.login();
      id = fc.createDisk("raw", 8192);
      password = first.password();
      assertThat(first.caFile()).isNull();
      assertThat(first.environment()).doesNotContainKey("DISKFERRY_CAFILE");
      assertThat(first.engineUrl()).startsWith("http://");
    }
    assertThat(password).isEqualTo("pw");
    try (Sandbox second = Sandbox.start(TestClient.fastConfig().withDataDir(dir));
        TestClient sc = new TestClient(second)) {
      sc.login();
      assertThat(second.diskStatus(id)).contains("ok");
      assertThat(sc.get("/disks/" + id).json().get("provisioned_size").asText()).isEqualTo("8192");
      assertThat(second.dataDir()).isEqualTo(dir.toAbsolutePath());
    }
    assertThat(Files.exists(dir.resolve("disks").resolve(id + ".img"))).isTrue();
  }

  @Test
  void temporaryDataDirIsDeletedOnClose() throws Exception {
    Sandbox s = Sandbox.start(TestClient.fastConfig());
    Path dir = s.dataDir();
    assertThat(Files.isDirectory(dir)).isTrue();
    s.close();
    assertThat(Files.exists(dir)).isFalse();
  }
}
