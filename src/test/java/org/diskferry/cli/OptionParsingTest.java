package org.diskferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.diskferry.cli.SandboxFixture.Result;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * How options are parsed and checked before anything runs: the profile found however -c is
 * written, values typed and ranged by picocli, options of the other platform refused, an option
 * winning over the environment, and help that shows each option where it means something.
 */
class OptionParsingTest {

  @TempDir static Path dir;
  static SandboxFixture fx;
  static Path source;

  @BeforeAll
  static void start() throws IOException {
    fx = new SandboxFixture(dir);
    source = SandboxFixture.image(dir.resolve("src.img"), 1 << 20, 5, false);
    Path config = Files.createDirectories(dir.resolve("home/.config/diskferry")).resolve("config");
    Files.writeString(config, "[prod]\nengine_url = https://prod.example.com\nworkers = 3\n");
  }

  @AfterAll
  static void stop() {
    fx.close();
  }

  /** Only HOME: no engine, no cloud configured. */
  private static Map<String, String> bare() {
    Map<String, String> env = new HashMap<>();
    env.put("HOME", dir.resolve("home").toString());
    env.put("XDG_STATE_HOME", dir.resolve("state").toString());
    return env;
  }

  private static Result run(String... args) {
    return fx.run(bare(), args);
  }

  /** A usage error: exit 2, one error line and the hint to the command's help. */
  private static void usageError(Result r, String message, String command) {
    assertThat(r.exit()).as(r.err()).isEqualTo(2);
    assertThat(r.out()).isEmpty();
    assertThat(r.err().lines().toList())
        .containsExactly(
            "diskferry: error: " + message,
            "Try '" + command + " --help' for more information.");
  }

  /** No disk made from the source (they would be named "src"), no journal. */
  private static void nothingLeft() throws IOException {
    Result disks = fx.run("-o", "json", "list");
    assertThat(disks.exit()).as(disks.err()).isZero();
    assertThat(disks.out()).doesNotContain("\"name\":\"src\"");
    Path state = dir.resolve("state");
    if (Files.exists(state)) {
      try (Stream<Path> s = Files.walk(state)) {
        assertThat(s.filter(Files::isRegularFile)).isEmpty();
      }
    }
  }

  @Test
  void theProfileIsFoundHoweverDashCIsWritten() {
    for (List<String> args :
        List.of(
            List.of("-qc", "prod", "-o", "json", "config", "show"),
            List.of("-c=prod", "-o", "json", "config", "show"),
            List.of("--profile=prod", "-o", "json", "config", "show"),
            List.of("-o", "json", "config", "show", "-cprod"),
            List.of("config", "show", "-qo", "json", "--profile", "prod"))) {
      Result r = run(args.toArray(String[]::new));
      assertThat(r.exit()).as(args + ": " + r.err()).isZero();
      assertThat(r.out())
          .as(String.valueOf(args))
          .contains("\"engine_url\":{\"value\":\"https://prod.example.com\",\"source\":\"profile prod in ")
          .contains("\"workers\":{\"value\":\"3\"");
    }
  }

  @Test
  void aValueOutOfRangeReadsLikeAValueOfTheWrongType() throws IOException {
    Result abc = fx.run("upload", source.toString(), "--workers", "abc");
    usageError(abc, "Invalid value for option '--workers': 'abc' is not an int", "diskferry upload");
    Result big = fx.run("upload", source.toString(), "--workers", "99");
    usageError(big, "Invalid value for option '--workers': 99 is out of range: from 1 to 16",
        "diskferry upload");
    Result buffer = fx.run("download", "disk", dir.resolve("x.raw").toString(),
        "--buffer-size", "1G");
    usageError(buffer,
        "Invalid value for option '--buffer-size': '1G' is out of range: from 64K to 64M",
        "diskferry download");
    Result policy = fx.run("upload", source.toString(), "--timeout-policy", "never");
    usageError(policy,
        "Invalid value for option '--timeout-policy': expected one of legacy, pause, cancel but"
            + " was 'never'",
        "diskferry upload");
    Result port = run("sandbox", "--port", "70000");
    usageError(port, "Invalid value for option '--port': 70000 is out of range: from 0 to 65535",
        "diskferry sandbox");
    assertThat(dir.resolve("x.raw")).doesNotExist();
    nothingLeft();
  }

  @Test
  void wireNamesAreTakenInAnyCase() throws IOException {
    Result r = fx.run("upload", source.toString(), "-f", "QCOW2", "--timeout-policy", "Pause",
        "--name", "typed", "-o", "json");
    assertThat(r.exit()).as(r.err()).isZero();
    Result list = fx.run("-o", "json", "list");
    assertThat(list.out()).containsPattern("\"name\":\"typed\",[^}]*\"format\":\"cow\"");
  }

  @Test
  void aGlanceRunRefusesOvirtOptions() throws IOException {
    Result verify = run("--cloud", "x", "upload", source.toString(), "--verify");
    usageError(verify, "--verify is an oVirt option; it cannot be used with --cloud x",
        "diskferry upload");
    Result workers = run("download", "img", dir.resolve("y.raw").toString(), "--cloud", "x",
        "--workers", "2");
    usageError(workers, "--workers is an oVirt option; it cannot be used with --cloud x",
        "diskferry download");
    Result glanceOnly = fx.run("upload", source.toString(), "--visibility", "private");
    usageError(glanceOnly,
        "--visibility is a Glance option; select a cloud with --cloud NAME (or OS_CLOUD)",
        "diskferry upload");
    assertThat(dir.resolve("y.raw")).doesNotExist();
    nothingLeft();
  }

  @Test
  void cloudAndEngineOptionsTogetherAreAUsageErrorForEveryCommand() throws IOException {
    String url = fx.sandbox.environment().get("DISKFERRY_ENGINE_URL");
    List<List<String>> commands =
        List.of(
            List.of("status"),
            List.of("status", "0b9d8c84-4ea5-4bd5-a2b5-2e2f6c0e4c4a"),
            List.of("cancel", "0b9d8c84-4ea5-4bd5-a2b5-2e2f6c0e4c4a"),
            List.of("list"),
            List.of("resume", "--all"),
            List.of("upload", source.toString()),
            List.of("download", "disk", dir.resolve("z.raw").toString()));
    for (List<String> command : commands) {
      String name = "diskferry " + command.get(0);
      Stream<String> after = Stream.concat(command.stream(),
          Stream.of("--cloud", "x", "--engine-url", url));
      usageError(fx.run(after.toArray(String[]::new)),
          "--engine-url is an oVirt option; it cannot be used with --cloud x", name);
      Stream<String> before = Stream.concat(Stream.of("--engine-url", url, "--cloud", "x"),
          command.stream());
      usageError(fx.run(before.toArray(String[]::new)),
          "--engine-url is an oVirt option; it cannot be used with --cloud x", name);
      Stream<String> user = Stream.concat(Stream.of("--username", "admin@internal"),
          Stream.concat(command.stream(), Stream.of("--cloud", "x")));
      usageError(fx.run(user.toArray(String[]::new)),
          "--username is an oVirt option; it cannot be used with --cloud x", name);
    }
    assertThat(dir.resolve("z.raw")).doesNotExist();
    nothingLeft();
  }

  @Test
  void anOptionWinsOverTheEnvironment() throws IOException {
    // An openrc sourced in the same shell as the sandbox's env file: both platforms configured.
    Map<String, String> both = fx.env();
    both.put("OS_CLOUD", "stale");
    both.put("XDG_STATE_HOME", dir.resolve("state").toString());
    String url = both.get("DISKFERRY_ENGINE_URL");

    for (String command : List.of("status", "list")) {
      Result refused = fx.run(both, command);
      assertThat(refused.exit()).as(refused.err()).isEqualTo(2);
      assertThat(refused.err().lines().findFirst().orElseThrow())
          .isEqualTo("diskferry: error: both an oVirt engine (env DISKFERRY_ENGINE_URL) and an"
              + " OpenStack cloud ('stale', env OS_CLOUD) are configured; choose one with"
              + " --engine-url URL or --cloud stale");
    }
    Result cancel = fx.run(both, "cancel", "0b9d8c84-4ea5-4bd5-a2b5-2e2f6c0e4c4a");
    assertThat(cancel.exit()).isEqualTo(2);
    assertThat(cancel.err()).startsWith("diskferry: error: both an oVirt engine");

    // --engine-url on the command line: the engine, not the cloud of the environment.
    Result status = fx.run(both, "--engine-url", url, "status");
    assertThat(status.exit()).as(status.err()).isZero();
    assertThat(status.out()).isEqualTo("no transfers\n");
    Result gone = fx.run(both, "cancel", "--engine-url", url,
        "0b9d8c84-4ea5-4bd5-a2b5-2e2f6c0e4c4a");
    assertThat(gone.exit()).as(gone.err()).isEqualTo(4);
    assertThat(gone.err())
        .isEqualTo("diskferry: error: transfer 0b9d8c84-4ea5-4bd5-a2b5-2e2f6c0e4c4a not found\n");
    // --cloud on the command line: the cloud (here one without a clouds.yaml), not the engine.
    Result cloud = fx.run(both, "--cloud", "other", "list");
    assertThat(cloud.exit()).isEqualTo(2);
    assertThat(cloud.err()).contains("cloud 'other'").doesNotContain("both");
    nothingLeft();
  }

  @Test
  void helpShowsOptionsWhereTheyMeanSomething() {
    Result upload = run("upload", "--help");
    assertThat(upload.exit()).isZero();
    String help = upload.out();
    int ovirt = help.indexOf("\noVirt disk options:\n");
    int glance = help.indexOf("\nGlance image options (--cloud):\n");
    assertThat(ovirt).isPositive();
    assertThat(glance).isGreaterThan(ovirt);
    assertThat(help.substring(ovirt, glance)).contains("--storage-domain", "--verify", "--workers")
        .doesNotContain("--visibility");
    assertThat(help.substring(glance)).contains("--visibility", "--property", "--import")
        .doesNotContain("--storage-domain", "--verify");
    assertThat(help).contains("Connection to an oVirt engine:", "Connection to OpenStack");

    Result sandbox = run("sandbox", "--help");
    assertThat(sandbox.exit()).isZero();
    assertThat(sandbox.out()).contains("--port", "--data-dir", "--faults")
        .doesNotContain("--engine-url", "--username", "--password-file", "--cafile", "--cloud",
            "--insecure", "--workers", "--output", "--quiet", "--log-file", "--version");
    Result onSandbox = run("--cloud", "x", "sandbox");
    usageError(onSandbox, "--cloud does not apply to 'diskferry sandbox'", "diskferry sandbox");
  }

  @Test
  void versionOnlyAtTheRoot() {
    Result root = run("-V");
    assertThat(root.exit()).isZero();
    assertThat(root.out()).startsWith("diskferry ");
    for (List<String> command :
        List.of(List.of("status"), List.of("upload", "f.img"), List.of("sandbox"),
            List.of("config", "show"))) {
      String name = "diskferry " + String.join(" ", command).replace(" f.img", "");
      Result r = run(Stream.concat(command.stream(), Stream.of("-V")).toArray(String[]::new));
      usageError(r, "Unknown option: '-V'", name);
      Result help = run(Stream.concat(command.stream(), Stream.of("--help")).toArray(String[]::new));
      assertThat(help.out()).startsWith("Usage: " + name).doesNotContain("--version");
    }
  }
}
