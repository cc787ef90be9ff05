package org.diskferry.glance;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.matchingJsonPath;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import okhttp3.OkHttpClient;
import org.diskferry.cli.Main;
import org.diskferry.error.DiskferryException;
import org.diskferry.http.HttpClientFactory;
import org.diskferry.http.TlsOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Keystone v3 over WireMock: the token request, catalog selection, re-auth and refusals. */
class KeystoneTest {

  static final String TOKEN_PATH = "/identity/v3/auth/tokens";
  static final String SECRET = "s3cret-pa55";

  @TempDir Path dir;
  WireMockServer wm;
  OkHttpClient http = HttpClientFactory.create(TlsOptions.system(), null);

  @BeforeEach
  void start() {
    wm = new WireMockServer(
        WireMockConfiguration.wireMockConfig().dynamicPort().bindAddress("127.0.0.1"));
    wm.start();
  }

  @AfterEach
  void stop() {
    wm.stop();
  }

  String base() {
    return "http://127.0.0.1:" + wm.port();
  }

  String catalog() {
    String b = base();
    return "{\"token\":{\"expires_at\":\"2099-01-01T00:00:00Z\",\"catalog\":["
        + "{\"type\":\"compute\",\"endpoints\":[{\"interface\":\"public\",\"region_id\":\"R1\","
        + "\"url\":\"" + b + "/compute\"}]},"
        + "{\"type\":\"image\",\"name\":\"glance\",\"endpoints\":["
        + "{\"interface\":\"public\",\"region_id\":\"R1\",\"region\":\"R1\",\"url\":\"" + b + "/r1pub\"},"
        + "{\"interface\":\"internal\",\"region_id\":\"R2\",\"region\":\"R2\",\"url\":\"" + b + "/r2int\"},"
        + "{\"interface\":\"public\",\"region_id\":\"R2\",\"region\":\"R2\",\"url\":\"" + b + "/r2pub/v2\"}"
        + "]}]}}";
  }

  void stubToken(String token) {
    wm.stubFor(post(urlEqualTo(TOKEN_PATH)).willReturn(aResponse().withStatus(201)
        .withHeader("X-Subject-Token", token).withHeader("Content-Type", "application/json")
        .withBody(catalog())));
  }

  CloudConfig cloud(String yamlEntry) throws Exception {
    Path f = dir.resolve("clouds.yaml");
    Files.writeString(f, "clouds:\n  c:\n" + yamlEntry);
    return new CloudsYaml(Map.of("OS_CLIENT_CONFIG_FILE", f.toString()), dir, dir)
        .resolve("c");
  }

  String password(String extra) {
    return "    auth:\n      auth_url: " + base() + "/identity\n      username: u\n"
        + "      password: " + SECRET + "\n      project_name: p\n" + extra;
  }

  @Test
  void passwordAuthPicksTheEndpointOfInterfaceAndRegion() throws Exception {
    stubToken("tok-1");
    KeystoneClient.Token t = new KeystoneClient(http, cloud(password(
        "    region_name: R2\n"))).authenticate();
    assertThat(t.value()).isEqualTo("tok-1");
    assertThat(t.imageEndpoint()).isEqualTo(base() + "/r2pub/v2");
    assertThat(t.toString()).doesNotContain("tok-1");
    wm.verify(postRequestedFor(urlEqualTo(TOKEN_PATH))
        .withRequestBody(matchingJsonPath("$.auth.identity.methods[0]", equalTo("password")))
        .withRequestBody(matchingJsonPath("$.auth.identity.password.user.name", equalTo("u")))
        .withRequestBody(matchingJsonPath("$.auth.identity.password.user.domain.name",
            equalTo("Default")))
        .withRequestBody(matchingJsonPath("$.auth.scope.project.name", equalTo("p"))));

    assertThat(new KeystoneClient(http, cloud(password("    interface: internal\n")))
        .authenticate().imageEndpoint()).isEqualTo(base() + "/r2int");
    assertThat(new KeystoneClient(http, cloud(password(""))).authenticate().imageEndpoint())
        .isEqualTo(base() + "/r1pub");
  }

  @Test
  void noMatchingEndpointListsWhatTheCatalogHas() throws Exception {
    stubToken("tok");
    assertThatThrownBy(() -> new KeystoneClient(http, cloud(password(
        "    region_name: R9\n"))).authenticate())
        .isInstanceOfSatisfying(DiskferryException.class, e -> {
          assertThat(e.kind()).isEqualTo(DiskferryException.Kind.NOT_FOUND);
          assertThat(e.getMessage()).contains("region R9").contains("public@R1")
              .contains("internal@R2");
        });
  }

  @Test
  void applicationCredentialIsUnscoped() throws Exception {
    stubToken("tok-ac");
    CloudConfig c = cloud("    auth_type: v3applicationcredential\n    auth:\n      auth_url: "
        + base() + "/identity/v3\n      application_credential_id: ac1\n"
        + "      application_credential_secret: " + SECRET + "\n");
    assertThat(c.toString()).doesNotContain(SECRET);
    new KeystoneClient(http, c).authenticate();
    wm.verify(postRequestedFor(urlEqualTo(TOKEN_PATH))
        .withRequestBody(matchingJsonPath("$.auth.identity.methods[0]",
            equalTo("application_credential")))
        .withRequestBody(matchingJsonPath("$.auth.identity.application_credential.id",
            equalTo("ac1")))
        .withRequestBody(matchingJsonPath("$.auth.identity.application_credential.secret",
            equalTo(SECRET))));
    assertThat(wm.findAll(postRequestedFor(urlEqualTo(TOKEN_PATH))).get(0).getBodyAsString())
        .doesNotContain("scope");
  }

  @Test
  void a401FromGlanceGetsANewTokenAndOneMoreTry() throws Exception {
    wm.stubFor(post(urlEqualTo(TOKEN_PATH)).inScenario("auth")
        .whenScenarioStateIs(Scenario.STARTED).willSetStateTo("second")
        .willReturn(aResponse().withStatus(201).withHeader("X-Subject-Token", "old")
            .withBody(catalog())));
    wm.stubFor(post(urlEqualTo(TOKEN_PATH)).inScenario("auth").whenScenarioStateIs("second")
        .willReturn(aResponse().withStatus(201).withHeader("X-Subject-Token", "new")
            .withBody(catalog())));
    wm.stubFor(get(urlPathEqualTo("/r1pub/v2/images")).withHeader("X-Auth-Token", equalTo("old"))
        .willReturn(aResponse().withStatus(401).withBody("{\"message\":\"expired\"}")));
    wm.stubFor(get(urlPathEqualTo("/r1pub/v2/images")).withHeader("X-Auth-Token", equalTo("new"))
        .willReturn(aResponse().withStatus(200).withBody(
            "{\"images\":[{\"id\":\"i1\",\"name\":\"n\",\"status\":\"active\"}]}")));
    GlanceClient g = GlanceClient.connect(http, cloud(password("")));
    assertThat(g.list(null)).extracting(GlanceImage::id).containsExactly("i1");
    wm.verify(2, postRequestedFor(urlEqualTo(TOKEN_PATH)));
    wm.verify(2, getRequestedFor(urlPathEqualTo("/r1pub/v2/images")));
  }

  @Test
  void wrongPasswordIsExit3WithOneLineAndNoSecret() throws Exception {
    wm.stubFor(post(urlEqualTo(TOKEN_PATH)).willReturn(aResponse().withStatus(401)
        .withBody("{\"error\":{\"code\":401,\"title\":\"Unauthorized\",\"message\":"
            + "\"The request you have made requires authentication.\"}}")));
    cloud(password(""));
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.run(new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8),
        Map.of("OS_CLIENT_CONFIG_FILE", dir.resolve("clouds.yaml").toString(),
            "HOME", dir.toString()),
        "--cloud", "c", "-vv", "list");
    String e = err.toString(StandardCharsets.UTF_8);
    assertThat(code).isEqualTo(3);
    assertThat(e).contains("diskferry: error: keystone at ").contains("refused the credentials")
        .contains("requires authentication").doesNotContain(SECRET);
    assertThat(e.lines().filter(l -> l.startsWith("diskferry: error:")).count()).isEqualTo(1);
    assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
  }
}
