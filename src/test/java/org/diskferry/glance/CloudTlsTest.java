package org.diskferry.glance;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.WireMockServer;
import com.github.tomakehurst.wiremock.core.WireMockConfiguration;
import java.io.ByteArrayOutputStream;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.HashMap;
import java.util.Map;
import okhttp3.tls.HeldCertificate;
import org.diskferry.cli.Main;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** TLS to Keystone and Glance: cacert, --cacert, verify: false, and an untrusted server. */
class CloudTlsTest {

  @TempDir Path dir;
  WireMockServer wm;
  Path caPem;

  @BeforeEach
  void start() throws Exception {
    HeldCertificate ca = new HeldCertificate.Builder().certificateAuthority(0)
        .commonName("test CA").build();
    HeldCertificate server = new HeldCertificate.Builder().signedBy(ca)
        .addSubjectAlternativeName("127.0.0.1").build();
    caPem = Files.writeString(dir.resolve("ca.pem"), ca.certificatePem());
    char[] pw = "changeit".toCharArray();
    KeyStore ks = KeyStore.getInstance("PKCS12");
    ks.load(null, null);
    ks.setKeyEntry("server", server.keyPair().getPrivate(), pw,
        new Certificate[] {server.certificate(), ca.certificate()});
    Path store = dir.resolve("server.p12");
    try (OutputStream o = Files.newOutputStream(store)) {
      ks.store(o, pw);
    }
    wm = new WireMockServer(WireMockConfiguration.wireMockConfig().httpDisabled(true)
        .dynamicHttpsPort().bindAddress("127.0.0.1").keystorePath(store.toString())
        .keystoreType("PKCS12").keystorePassword("changeit").keyManagerPassword("changeit"));
    wm.start();
    String base = "https://127.0.0.1:" + wm.httpsPort();
    wm.stubFor(post(urlEqualTo("/v3/auth/tokens")).willReturn(aResponse().withStatus(201)
        .withHeader("X-Subject-Token", "t").withBody("{\"token\":{\"catalog\":[{\"type\":"
            + "\"image\",\"endpoints\":[{\"interface\":\"public\",\"region_id\":\"R\","
            + "\"url\":\"" + base + "/image\"}]}]}}")));
    wm.stubFor(get(urlPathEqualTo("/image/v2/images")).willReturn(okJson("{\"images\":[]}")));
  }

  @AfterEach
  void stop() {
    wm.stop();
  }

  record Run(int exit, String out, String err) {}

  Run list(String extraYaml, String... options) throws Exception {
    Path clouds = Files.writeString(dir.resolve("clouds.yaml"), "clouds:\n  c:\n"
        + "    auth:\n      auth_url: https://127.0.0.1:" + wm.httpsPort() + "\n"
        + "      username: u\n      password: p\n      project_name: x\n" + extraYaml);
    // As an admin keeps a file with a password (others' read access would add a warning).
    Files.setPosixFilePermissions(
        clouds, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    Map<String, String> env = new HashMap<>();
    env.put("OS_CLIENT_CONFIG_FILE", clouds.toString());
    env.put("HOME", dir.toString());
    String[] args = new String[options.length + 3];
    args[0] = "--cloud";
    args[1] = "c";
    System.arraycopy(options, 0, args, 2, options.length);
    args[args.length - 1] = "list";
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code = Main.run(new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), env, args);
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void untrustedServerIsExit3AndSaysWhatToSet() throws Exception {
    Run r = list("");
    assertThat(r.exit()).as(r.err()).isEqualTo(3);
    assertThat(r.err()).startsWith("diskferry: error: TLS failure talking to keystone")
        .contains("cacert");
  }

  @Test
  void cacertInCloudsYamlOrOnTheCommandLineIsTrusted() throws Exception {
    Run r = list("    cacert: " + caPem + "\n");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).startsWith("ID ");
    Run option = list("", "--cacert", caPem.toString());
    assertThat(option.exit()).as(option.err()).isZero();
  }

  @Test
  void verifyFalseWorksWithAWarning() throws Exception {
    Run r = list("    verify: false\n");
    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.err()).contains("warning: verify: false in cloud 'c'");
  }
}
