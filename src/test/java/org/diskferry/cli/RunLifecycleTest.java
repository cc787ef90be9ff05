package org.diskferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.diskferry.cli.SandboxFixture.Result;
import org.diskferry.http.Json;
import org.diskferry.sandbox.FaultHook;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What one run owns from start to end: the log file (every stderr line, the final error too), the
 * progress display (finished before the result), -q, and -o json's error object.
 */
class RunLifecycleTest {

  @TempDir static Path dir;
  static SandboxFixture fx;

  @BeforeAll
  static void start() throws IOException {
    fx = new SandboxFixture(dir);
  }

  @AfterAll
  static void stop() {
    fx.close();
  }

  @AfterEach
  void healed() {
    fx.sandbox.setFaultHook(null);
  }

  private static List<String> diskNames() throws IOException {
    Result r = fx.run("-o", "json", "list");
    assertThat(r.exit()).as(r.toString()).isZero();
    List<String> names = new ArrayList<>();
    for (JsonNode d : Json.mapper().readTree(r.out())) {
      names.add(d.path("name").asText());
    }
    return names;
  }

  @Test
  void aLogFileThatCannotBeWrittenIsAUsageErrorBeforeAnythingStarts() throws IOException {
    Path src = SandboxFixture.image(dir.resolve("nolog.img"), 1 << 20, 1, false);
    Path log = dir.resolve("no-such-dir").resolve("run.log");
    Result r = fx.run("--log-file", log.toString(), "upload", src.toString(), "--name", "nolog");
    assertThat(r.exit()).as(r.toString()).isEqualTo(2);
    assertThat(r.err().lines().toList())
        .containsExactly(
            "diskferry: error: cannot open log file " + log + ": directory " + log.getParent()
                + " does not exist");
    assertThat(diskNames()).doesNotContain("nolog");
    assertThat(log.getParent()).doesNotExist();
  }

  @Test
  void theLogFileGetsTheFinalErrorAndTheWarnings() throws IOException {
    Path log = dir.resolve("errors.log");
    Result r =
        fx.run("--log-file", log.toString(), "download", "no-such-disk",
            dir.resolve("never.raw").toString());
    assertThat(r.exit()).as(r.toString()).isEqualTo(4);
    String line = r.err().lines().filter(l -> l.startsWith("diskferry: error: ")).findFirst()
        .orElseThrow();
    String logged = Files.readString(log, StandardCharsets.UTF_8);
    assertThat(logged).contains("error: " + line.substring("diskferry: error: ".length()));
    assertThat(logged.lines())
        .allMatch(l -> l.matches("\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d.*"));
  }

  @Test
  void quietWithJsonPrintsNothingOnStderrOnSuccess() throws IOException {
    Path src = SandboxFixture.image(dir.resolve("quiet.img"), 2 << 20, 2, true);
    Result r = fx.run("-q", "-o", "json", "upload", src.toString(), "--name", "quiet");
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.err()).isEmpty();
    assertThat(Json.mapper().readTree(r.out()).get("phase").asText())
        .isEqualTo("finished_success");
  }

  @Test
  void jsonProgressEndsWithTheLastFigureBeforeTheResult() throws IOException {
    Path src = SandboxFixture.image(dir.resolve("events.img"), 4 << 20, 3, false);
    Result r = fx.run("-o", "json", "upload", src.toString(), "--name", "events");
    assertThat(r.exit()).as(r.toString()).isZero();
    List<JsonNode> progress = new ArrayList<>();
    for (String l : r.err().lines().toList()) {
      JsonNode e = Json.mapper().readTree(l);
      if (e.get("event").asText().equals("progress")) {
        progress.add(e);
      }
    }
    JsonNode last = progress.get(progress.size() - 1);
    assertThat(last.get("transferred").asLong()).isEqualTo(4 << 20);
  }

  @Test
  void aFailureWithJsonPrintsOneErrorObjectOnStdout() throws IOException {
    Result r = fx.run("-o", "json", "download", "no-such-disk", dir.resolve("x.raw").toString());
    assertThat(r.exit()).as(r.toString()).isEqualTo(4);
    JsonNode e = Json.mapper().readTree(r.out()).get("error");
    assertThat(e.get("exit_code").asInt()).isEqualTo(4);
    assertThat(e.get("message").asText()).contains("no-such-disk");
    assertThat(e.get("transfer_id").isNull()).isTrue();
    assertThat(e.get("resumable").asBoolean()).isFalse();
    assertThat(r.out().lines()).hasSize(1);

    Result usage = fx.run("-o", "json", "download");
    assertThat(usage.exit()).isEqualTo(2);
    assertThat(Json.mapper().readTree(usage.out()).get("error").get("exit_code").asInt())
        .isEqualTo(2);
  }

  @Test
  void aResumableFailureSaysSoInTheErrorObject() throws IOException {
    Path src = SandboxFixture.image(dir.resolve("flaky.img"), 8 << 20, 4, false);
    AtomicInteger puts = new AtomicInteger();
    fx.sandbox.setFaultHook(
        r ->
            r.dataPlane() && r.method().equals("PUT") && puts.incrementAndGet() > 10
                ? FaultHook.Action.resetAfter(100)
                : null);
    Result r =
        fx.run("-o", "json", "upload", src.toString(), "--name", "flaky", "--workers", "2",
            "--retries", "1", "--retry-delay", "5", "--buffer-size", "64K", "--range-size",
            "256K");
    assertThat(r.exit()).as(r.toString()).isEqualTo(75);
    JsonNode e = Json.mapper().readTree(r.out()).get("error");
    assertThat(e.get("resumable").asBoolean()).isTrue();
    String id = e.get("transfer_id").asText();
    assertThat(id).isNotBlank();
    assertThat(e.get("message").asText()).contains(id);
    // The hint is built from how this run was typed: the options that chose the engine come along.
    assertThat(e.get("message").asText())
        .endsWith("; 'diskferry resume " + id + "' continues it");
    fx.sandbox.setFaultHook(null);
    Result c = fx.run("cancel", id);
    assertThat(c.exit()).as(c.toString()).isZero();
  }

  @Test
  void hintsCarryTheOptionsThatChoseTheEngine() throws IOException {
    Path config = dir.resolve("home/.config/diskferry/config");
    Files.createDirectories(config.getParent());
    Files.writeString(config, "[lab]\nengine_url = " + fx.env().get("DISKFERRY_ENGINE_URL")
        + "\nusername = admin@internal\n");
    Map<String, String> env = new java.util.HashMap<>(fx.env());
    env.remove("DISKFERRY_ENGINE_URL");
    Path src = SandboxFixture.image(dir.resolve("hint.img"), 8 << 20, 6, false);
    AtomicInteger puts = new AtomicInteger();
    fx.sandbox.setFaultHook(
        r ->
            r.dataPlane() && r.method().equals("PUT") && puts.incrementAndGet() > 10
                ? FaultHook.Action.resetAfter(100)
                : null);
    Result r =
        fx.run(env, "-c", "lab", "upload", src.toString(), "--name", "hint", "--workers", "2",
            "--retries", "1", "--retry-delay", "5", "--buffer-size", "64K", "--range-size",
            "256K");
    assertThat(r.exit()).as(r.toString()).isEqualTo(75);
    String last = r.err().lines().reduce((a, b) -> b).orElseThrow();
    assertThat(last).matches("diskferry: error: transfer (\\S+): .*; 'diskferry -c lab resume \\1'"
        + " continues it");
    fx.sandbox.setFaultHook(null);
    String id = last.replaceAll(".*resume (\\S+)' continues it$", "$1");
    Result resumed = fx.run(env, "-c", "lab", "resume", id);
    assertThat(resumed.exit()).as(resumed.toString()).isZero();
  }

  @Test
  void shellWordsAreQuotedOnlyWhenNeeded() {
    assertThat(Cli.shellWord("prod")).isEqualTo("prod");
    assertThat(Cli.shellWord("/etc/my ca.pem")).isEqualTo("'/etc/my ca.pem'");
    assertThat(Cli.shellWord("it's")).isEqualTo("'it'\\''s'");
  }

  @Test
  void onATerminalTheResultStartsOnALineOfItsOwn() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/script")), "needs script(1) for a pty");
    Path src = SandboxFixture.image(dir.resolve("tty.img"), 16 << 20, 5, false);
    List<String> java =
        List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(), "-cp",
            System.getProperty("java.class.path"), "org.diskferry.cli.Main", "upload",
            src.toString(), "--name", "tty");
    ProcessBuilder pb =
        new ProcessBuilder("script", "-qec", String.join(" ", java.stream().map(a -> "'" + a + "'")
            .toList()), "/dev/null");
    for (Map.Entry<String, String> e : fx.env().entrySet()) {
      pb.environment().put(e.getKey(), e.getValue());
    }
    pb.redirectErrorStream(true);
    pb.redirectInput(ProcessBuilder.Redirect.PIPE);
    Process p = pb.start();
    p.getOutputStream().close();
    byte[] all = p.getInputStream().readAllBytes();
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    String tty = new String(all, StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(tty).isZero();
    int at = tty.indexOf("uploaded " + src);
    assertThat(at).as(tty).isPositive();
    // Whatever the bar drew, the result begins a line: after a newline, or after the bar was
    // erased and the cursor put back at the start of the line.
    String before = tty.substring(0, at);
    assertThat(before.endsWith("\n") || before.matches("(?s).*\r(\u001b\\[[0-9;]*K)?$"))
        .as("%s", before.substring(Math.max(0, before.length() - 80)).replace("\u001b", "ESC")
            .replace("\r", "\\r").replace("\n", "\\n"))
        .isTrue();
  }

  @Test
  void aPasswordFileOthersCanReadGetsAWarning() throws IOException {
    Path pw = dir.resolve("pw");
    Files.writeString(pw, fx.sandbox.password() + "\n");
    Map<String, String> env = new java.util.HashMap<>(fx.env());
    env.remove("DISKFERRY_PASSWORD");
    Files.setPosixFilePermissions(pw, java.nio.file.attribute.PosixFilePermissions.fromString("rw-r--r--"));
    Result shared = fx.run(env, "--password-file", pw.toString(), "list");
    assertThat(shared.exit()).as(shared.toString()).isZero();
    assertThat(shared.err().lines().toList())
        .containsExactly("diskferry: warning: " + pw
            + " holds a password and is readable by others; chmod 600 " + pw);
    Files.setPosixFilePermissions(pw, java.nio.file.attribute.PosixFilePermissions.fromString("rw-------"));
    Result mine = fx.run(env, "--password-file", pw.toString(), "list");
    assertThat(mine.exit()).as(mine.toString()).isZero();
    assertThat(mine.err()).isEmpty();
  }

  @Test
  void theSummaryRateIsThatOfTheDataPhase() throws IOException {
    Path src = SandboxFixture.image(dir.resolve("summary.img"), 4 << 20, 7, false);
    Result r = fx.run("upload", src.toString(), "--name", "summary");
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(r.out().strip()).matches("uploaded " + java.util.regex.Pattern.quote(src.toString())
        + " to disk \\S+ \\(4\\.00 MiB in [0-9.]+ s; data [0-9.]+ s at [0-9.]+ MiB/s;"
        + " transfer \\S+\\)");
    Result j = fx.run("-o", "json", "upload", src.toString(), "--name", "summary-json");
    JsonNode o = Json.mapper().readTree(j.out());
    assertThat(o.get("data_seconds").asDouble()).isPositive()
        .isLessThanOrEqualTo(o.get("seconds").asDouble());
    assertThat(o.get("bytes_before").asLong()).isZero();
  }

  @Test
  void aResumeThatMovedNothingSaysSo() {
    var r = new org.diskferry.transfer.TransferResult(
        org.diskferry.transfer.Direction.DOWNLOAD, "t", "d", "finished_success", 8 << 20, 0,
        0.4, 0, 0, null, 8 << 20, 0);
    assertThat(TransferCommand.figures(r)).isEqualTo("8.00 MiB, nothing was left to move, in 0.4 s");
    var part = new org.diskferry.transfer.TransferResult(
        org.diskferry.transfer.Direction.UPLOAD, "t", "d", "finished_success", 8 << 20, 2 << 20,
        3.0, 2, 0, null, 6 << 20, 1.0);
    assertThat(TransferCommand.figures(part))
        .isEqualTo("2.00 MiB of 8.00 MiB in 3.0 s; data 1.0 s at 2.0 MiB/s");
  }
}
