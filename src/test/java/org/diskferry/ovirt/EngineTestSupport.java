package org.diskferry.ovirt;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.equalTo;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static com.github.tomakehurst.wiremock.core.WireMockConfiguration.wireMockConfig;

import com.fasterxml.jackson.databind.JsonNode;
import com.github.tomakehurst.wiremock.core.Options;
import com.github.tomakehurst.wiremock.junit5.WireMockExtension;
import okhttp3.OkHttpClient;
import org.diskferry.http.HttpClientFactory;
import org.diskferry.http.Json;
import org.diskferry.http.TlsOptions;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.extension.RegisterExtension;

/** A WireMock engine on 127.0.0.1 with a working SSO login, and a logged-in client. */
abstract class EngineTestSupport {

  static final String API = "/ovirt-engine/api";
  static final String TOKEN_PATH = "/ovirt-engine/sso/oauth/token";
  static final String LOGOUT_PATH = "/ovirt-engine/services/sso-logout";
  static final String TOKEN = "tok-AAAA";

  @RegisterExtension
  final WireMockExtension wm =
      WireMockExtension.newInstance()
          .options(
              wireMockConfig()
                  .dynamicPort()
                  .bindAddress("127.0.0.1")
                  .useChunkedTransferEncoding(Options.ChunkedEncodingPolicy.NEVER))
          .build();

  final OkHttpClient http = HttpClientFactory.create(TlsOptions.system(), null);
  EngineClient client;

  String base() {
    return wm.getRuntimeInfo().getHttpBaseUrl();
  }

  void stubLogin() {
    wm.stubFor(
        post(urlPathEqualTo(TOKEN_PATH))
            .withHeader("Accept", equalTo("application/json"))
            .willReturn(
                okJson(
                    "{\"access_token\":\"" + TOKEN + "\",\"scope\":\"ovirt-app-api\","
                        + "\"exp\":\"9223372036854775807\",\"token_type\":\"bearer\"}")));
    wm.stubFor(post(urlPathEqualTo(LOGOUT_PATH)).willReturn(okJson("{}")));
  }

  EngineClient login() {
    stubLogin();
    client = EngineClient.login(http, base(), "admin@internal", "secret".toCharArray());
    return client;
  }

  @AfterEach
  void closeClient() {
    if (client != null) {
      client.close();
    }
    http.dispatcher().executorService().shutdown();
    http.connectionPool().evictAll();
  }

  static com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder json(
      int status, String body) {
    return aResponse()
        .withStatus(status)
        .withHeader("Content-Type", "application/json")
        .withBody(body);
  }

  static JsonNode tree(String json) throws Exception {
    return Json.mapper().readTree(json);
  }
}
