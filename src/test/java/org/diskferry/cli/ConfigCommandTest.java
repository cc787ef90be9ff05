package org.diskferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ConfigCommandTest {

  private static final String SECRET = "s3cret-Pa55";

  @TempDir Path home;
  final Map<String, String> env = new HashMap<>();
  Path configFile;

  record Result(int code, String out, String err) {}

  @BeforeEach
  void setUp() throws IOException {
    env.put("HOME", home.toString());
    configFile = home.resolve(".config/diskferry/config");
    Files.createDirectories(configFile.getParent());
    Files.writeString(
        configFile,
        "[prod]\n"
            + "engine_url = https://engine.example.com\n"
            + "username = admin@internal\n"
            + "password = "
            + SECRET
            + "\n"
            + "cafile = /etc/pki/ovirt-engine/ca.pem\n"
            + "storage_domain = data\n");
    Files.setPosixFilePermissions(configFile, PosixFilePermissions.fromString("rw-------"));
  }

  private Result run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      code = Main.run(o, e, env, args);
    }
    return new Result(
        code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  private JsonNode json(Result r) throws IOException {
    assertThat(r.code()).as(r.err()).isZero();
    return new ObjectMapper().readTree(r.out());
  }

  @Test
  void textShowsProfileValuesWithThePasswordMasked() {
    Result r = run("-c", "prod", "config", "show");

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.err()).isEmpty();
    assertThat(r.out()).doesNotContain(SECRET);
    String profile = "profile prod in " + configFile;
    assertThat(r.out().lines())
        .first()
        .satisfies(l -> assertThat(l.split("\\s+")).containsExactly("KEY", "VALUE", "SOURCE"));
    assertThat(r.out().lines())
        .anySatisfy(
            l -> assertThat(l).matches("engine_url +https://engine\\.example\\.com +" + q(profile)))
        .anySatisfy(l -> assertThat(l).matches("password +\\*{8} +" + q(profile)))
        .anySatisfy(l -> assertThat(l).matches("storage_domain +data +" + q(profile)));
  }

  @Test
  void jsonGivesValueAndSourcePerKeyAndEnvWinsOverProfile() throws IOException {
    env.put("DISKFERRY_USERNAME", "ci@internal");
    env.put("DISKFERRY_WORKERS", "8");

    Result r = run("-c", "prod", "-o", "json", "config", "show");
    JsonNode o = json(r);

    assertThat(r.out()).doesNotContain(SECRET);
    String profile = "profile prod in " + configFile;
    assertThat(o.path("username").path("value").asText()).isEqualTo("ci@internal");
    assertThat(o.path("username").path("source").asText()).isEqualTo("env DISKFERRY_USERNAME");
    assertThat(o.path("workers").path("value").asText()).isEqualTo("8");
    assertThat(o.path("workers").path("source").asText()).isEqualTo("env DISKFERRY_WORKERS");
    assertThat(o.path("engine_url").path("source").asText()).isEqualTo(profile);
    assertThat(o.path("password").path("value").asText()).isEqualTo("********");
    assertThat(o.path("password").path("source").asText()).isEqualTo(profile);
    assertThat(o.has("engine_url")).isTrue();
    assertThat(o.fieldNames()).toIterable().startsWith("engine_url", "username", "password");
  }

  @Test
  void anEnvironmentPasswordIsMaskedToo() throws IOException {
    env.put("DISKFERRY_PASSWORD", "from-the-env-" + SECRET);

    Result r = run("-c", "prod", "-o", "json", "config", "show");
    JsonNode o = json(r);

    assertThat(r.out()).doesNotContain(SECRET);
    assertThat(o.path("password").path("value").asText()).isEqualTo("********");
    assertThat(o.path("password").path("source").asText()).isEqualTo("env DISKFERRY_PASSWORD");
  }

  @Test
  void optionsGivenOnTheCommandLineWinAndSayWhichOption() throws IOException {
    env.put("DISKFERRY_ENGINE_URL", "https://env.example.com");
    Path pw = home.resolve("pw");
    Files.writeString(pw, SECRET + "\n");

    Result before =
        run("-c", "prod", "--engine-url", "https://cli.example.com", "-o", "json", "config",
            "show");
    Result after =
        run("config", "show", "-c", "prod", "--engine-url=https://cli.example.com",
            "--password-file", pw.toString(), "--insecure", "-o", "json");

    for (Result r : new Result[] {before, after}) {
      JsonNode o = json(r);
      assertThat(o.path("engine_url").path("value").asText()).isEqualTo("https://cli.example.com");
      assertThat(o.path("engine_url").path("source").asText()).isEqualTo("option --engine-url");
      assertThat(o.path("username").path("source").asText()).startsWith("profile prod in ");
    }
    JsonNode o = json(after);
    assertThat(after.out()).doesNotContain(SECRET);
    assertThat(o.path("password").path("value").asText()).isEqualTo("********");
    assertThat(o.path("password").path("source").asText()).isEqualTo("option --password-file");
    assertThat(o.path("insecure").path("value").asText()).isEqualTo("true");
    assertThat(o.path("insecure").path("source").asText()).isEqualTo("option --insecure");
    assertThat(o.has("output")).isFalse();
    assertThat(o.has("profile")).isFalse();
  }

  @Test
  void withoutProfileOrEnvironmentOnlyTheHeaderIsPrinted() throws IOException {
    Files.delete(configFile);

    Result r = run("config", "show");

    assertThat(r.code()).as(r.err()).isZero();
    assertThat(r.out().lines()).hasSize(1);
    assertThat(json(run("-o", "json", "config", "show")).size()).isZero();
  }

  @Test
  void configWithoutSubcommandIsAUsageError() {
    Result r = run("config");

    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err()).contains("config show");
  }

  private static String q(String s) {
    return java.util.regex.Pattern.quote(s);
  }
}
