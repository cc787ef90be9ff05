package org.diskferry.ovirt;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.stubbing.Scenario;
import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import java.util.List;
import org.diskferry.error.DiskferryException;
import org.junit.jupiter.api.Test;

class EngineClientAuthTest extends EngineTestSupport {

  @Test
  void loginSendsUrlEncodedPasswordGrantWithExactAcceptHeader() {
    stubLogin();
    char[] password = "p@ss w&rd=é".toCharArray();
    client = EngineClient.login(http, base(), "admin@internal", password);

    List<LoggedRequest> reqs = wm.findAll(postRequestedFor(urlEqualTo(TOKEN_PATH)));
    assertThat(reqs).hasSize(1);
    LoggedRequest r = reqs.get(0);
    assertThat(r.getHeaders().getHeader("Accept").values()).containsExactly("application/json");
    assertThat(r.getHeader("Content-Type")).startsWith("application/x-www-form-urlencoded");
    assertThat(r.getBodyAsString())
        .isEqualTo(
            "grant_type=password&scope=ovirt-app-api&username=admin%40internal"
                + "&password=p%40ss%20w%26rd%3D%C3%A9");
    // The caller's array is left alone; the client keeps its own copy.
    assertThat(password).containsExactly("p@ss w&rd=é".toCharArray());
    assertThat(client.engineUrl()).isEqualTo(base());
  }

  @Test
  void apiCallsCarryBearerTokenVersionAndAccept() {
    login();
    wm.stubFor(get(urlEqualTo(API + "/disks")).willReturn(okJson("{}")));
    client.disks();
    LoggedRequest r = wm.findAll(getRequestedFor(urlEqualTo(API + "/disks"))).get(0);
    assertThat(r.getHeader("Authorization")).isEqualTo("Bearer " + TOKEN);
    assertThat(r.getHeader("Version")).isEqualTo("4");
    assertThat(r.getHeader("Accept")).isEqualTo("application/json");
  }

  @Test
  void engineStyleFailureShapeIsAuth() {
    wm.stubFor(
        post(urlPathEqualTo(TOKEN_PATH))
            .willReturn(
                json(400, "{\"error_code\":\"access_denied\","
                    + "\"error\":\"Cannot authenticate user 'admin@internal': The username or"
                    + " password is incorrect.\"}")));
    assertThatThrownBy(
            () -> EngineClient.login(http, base(), "admin@internal", "wrong".toCharArray()))
        .isInstanceOfSatisfying(
            DiskferryException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(DiskferryException.Kind.AUTH);
              assertThat(e.getMessage())
                  .isEqualTo(
                      "login as admin@internal failed: Cannot authenticate user"
                          + " 'admin@internal': The username or password is incorrect.")
                  .doesNotContain("wrong");
            });
  }

  @Test
  void oauthStandardFailureShapeIsAuth() {
    wm.stubFor(
        post(urlPathEqualTo(TOKEN_PATH))
            .willReturn(
                json(400, "{\"error\":\"invalid_grant\","
                    + "\"error_description\":\"The provided authorization grant is invalid.\"}")));
    assertThatThrownBy(
            () -> EngineClient.login(http, base(), "bob@internal", "x".toCharArray()))
        .isInstanceOfSatisfying(
            DiskferryException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(DiskferryException.Kind.AUTH);
              assertThat(e.getMessage())
                  .isEqualTo(
                      "login as bob@internal failed: The provided authorization grant is invalid.");
            });
  }

  @Test
  void closeLogsOutOnceWithTheToken() {
    login();
    client.close();
    client.close();
    List<LoggedRequest> reqs = wm.findAll(postRequestedFor(urlEqualTo(LOGOUT_PATH)));
    assertThat(reqs).hasSize(1);
    assertThat(reqs.get(0).getHeader("Accept")).isEqualTo("application/json");
    assertThat(reqs.get(0).getBodyAsString()).isEqualTo("scope=ovirt-app-api&token=" + TOKEN);
    assertThatThrownBy(() -> client.disks()).isInstanceOf(IllegalStateException.class);
  }

  @Test
  void closeIgnoresLogoutFailure() {
    login();
    wm.stubFor(post(urlPathEqualTo(LOGOUT_PATH)).willReturn(aResponse().withStatus(500)));
    client.close();
    wm.verify(1, postRequestedFor(urlEqualTo(LOGOUT_PATH)));
  }

  @Test
  void a401LogsInAgainOnceAndRetries() {
    wm.stubFor(
        post(urlPathEqualTo(TOKEN_PATH))
            .inScenario("tokens")
            .whenScenarioStateIs(Scenario.STARTED)
            .willReturn(okJson("{\"access_token\":\"old\"}"))
            .willSetStateTo("second"));
    wm.stubFor(
        post(urlPathEqualTo(TOKEN_PATH))
            .inScenario("tokens")
            .whenScenarioStateIs("second")
            .willReturn(okJson("{\"access_token\":\"new\"}")));
    wm.stubFor(post(urlPathEqualTo(LOGOUT_PATH)).willReturn(okJson("{}")));
    wm.stubFor(
        get(urlEqualTo(API + "/disks/d1"))
            .withHeader("Authorization", equalTo("Bearer old"))
            .willReturn(
                aResponse()
                    .withStatus(401)
                    .withHeader("WWW-Authenticate", "Basic realm=\"RESTAPI\"")
                    .withBody("<html><body>Unauthorized</body></html>")));
    wm.stubFor(
        get(urlEqualTo(API + "/disks/d1"))
            .withHeader("Authorization", equalTo("Bearer new"))
            .willReturn(okJson("{\"id\":\"d1\",\"status\":\"ok\"}")));
    client = EngineClient.login(http, base(), "admin@internal", "secret".toCharArray());

    assertThat(client.disk("d1").status()).isEqualTo("ok");
    wm.verify(2, postRequestedFor(urlEqualTo(TOKEN_PATH)));
    wm.verify(2, getRequestedFor(urlEqualTo(API + "/disks/d1")));
  }

  @Test
  void a401AfterLoggingInAgainIsAuth() {
    login();
    wm.stubFor(
        get(urlEqualTo(API + "/disks/d1"))
            .willReturn(aResponse().withStatus(401).withBody("<html>Unauthorized</html>")));
    assertThatThrownBy(() -> client.disk("d1"))
        .isInstanceOfSatisfying(
            DiskferryException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(DiskferryException.Kind.AUTH);
              assertThat(e.getMessage()).doesNotContain("\n").doesNotContain("html")
                  .contains("get disk d1").contains("401");
            });
    wm.verify(2, postRequestedFor(urlEqualTo(TOKEN_PATH)));
    wm.verify(2, getRequestedFor(urlEqualTo(API + "/disks/d1")));
  }

  @Test
  void engineUrlIsNormalised() {
    assertThat(EngineClient.normaliseUrl("https://e.example.com")).isEqualTo("https://e.example.com");
    assertThat(EngineClient.normaliseUrl("https://e.example.com/")).isEqualTo("https://e.example.com");
    assertThat(EngineClient.normaliseUrl("https://e.example.com:8443/ovirt-engine"))
        .isEqualTo("https://e.example.com:8443");
    assertThat(EngineClient.normaliseUrl("https://e.example.com/ovirt-engine/api/"))
        .isEqualTo("https://e.example.com");
    assertThat(EngineClient.normaliseUrl("e.example.com")).isEqualTo("https://e.example.com");
    assertThatThrownBy(() -> EngineClient.normaliseUrl("https://"))
        .isInstanceOfSatisfying(
            DiskferryException.class,
            e -> assertThat(e.kind()).isEqualTo(DiskferryException.Kind.BAD_INPUT));
  }

  @Test
  void loginAcceptsAnUrlEndingInOvirtEngineApi() {
    stubLogin();
    client =
        EngineClient.login(http, base() + "/ovirt-engine/api/", "admin@internal", "s".toCharArray());
    assertThat(client.engineUrl()).isEqualTo(base());
    wm.verify(1, postRequestedFor(urlEqualTo(TOKEN_PATH)));
  }

  @Test
  void untrustedEngineCertificateIsAuthAndSaysWhereTheCaIs() {
    com.github.tomakehurst.wiremock.WireMockServer tls =
        new com.github.tomakehurst.wiremock.WireMockServer(
            com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig()
                .httpDisabled(true).dynamicHttpsPort().bindAddress("127.0.0.1"));
    tls.start();
    try {
      String url = "https://127.0.0.1:" + tls.httpsPort();
      assertThatThrownBy(
              () -> EngineClient.login(http, url + "/ovirt-engine", "admin@internal",
                  "secret".toCharArray()))
          .isInstanceOfSatisfying(
              DiskferryException.class,
              e -> {
                assertThat(e.kind()).isEqualTo(DiskferryException.Kind.AUTH);
                assertThat(e.getMessage())
                    .isEqualTo(
                        "the TLS certificate of 127.0.0.1:" + tls.httpsPort() + " is not trusted;"
                            + " pass --cafile with the engine CA (published at " + url
                            + "/ovirt-engine/services/pki-resource?resource=ca-certificate"
                            + "&format=X509-PEM-CA) or use --insecure");
              });
    } finally {
      tls.stop();
    }
  }

  @Test
  void unreachableEngineIsFailedAndNamesTheUrl() throws Exception {
    int port;
    try (java.net.ServerSocket s = new java.net.ServerSocket(0, 1,
        java.net.InetAddress.getByName("127.0.0.1"))) {
      port = s.getLocalPort();
    }
    String url = "http://127.0.0.1:" + port;
    assertThatThrownBy(() -> EngineClient.login(http, url, "admin@internal", "s".toCharArray()))
        .isInstanceOfSatisfying(
            DiskferryException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(DiskferryException.Kind.FAILED);
              assertThat(e.getMessage()).startsWith("cannot reach the engine at " + url + ": ");
            });
  }
}
