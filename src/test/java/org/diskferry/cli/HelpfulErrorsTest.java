package org.diskferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad input that used to give an error line the user could not act on: each now names what is
 * wrong and what to do, in one line, with the SPEC's exit code. No server is needed: every one of
 * them is found before anything is contacted (or against a closed or plain-text port on loopback).
 */
class HelpfulErrorsTest {

  @TempDir Path dir;

  record Result(int code, String out, String err) {}

  private Result run(Map<String, String> env, String... args) {
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

  private Map<String, String> env() {
    Map<String, String> env = new HashMap<>();
    env.put("HOME", dir.resolve("home").toString());
    env.put("XDG_STATE_HOME", dir.resolve("state").toString());
    env.put("DISKFERRY_PASSWORD", "not-used");
    return env;
  }

  private static String firstLine(Result r) {
    return r.err().lines().findFirst().orElse("");
  }

  @Test
  void anUnknownCommandIsNamedWithTheCommandsThereAre() {
    Result r = run(env(), "uplod", "disk.raw");
    assertThat(r.code()).isEqualTo(2);
    assertThat(firstLine(r))
        .startsWith("diskferry: error: unknown command 'uplod'; did you mean upload")
        .contains("Commands: upload, download, status, cancel, resume, list");
    assertThat(r.err()).contains("Try 'diskferry --help'");
  }

  @Test
  void aBinaryOrMissingCaFileIsRefusedWithoutParsingIt() throws IOException {
    Path binary = dir.resolve("ca.bin");
    byte[] noise = new byte[8 << 20];
    new Random(1).nextBytes(noise);
    noise[0] = 0x17; // not a DER sequence either
    Files.write(binary, noise);
    Result r = run(env(), "--engine-url", "https://127.0.0.1:1", "--username", "u",
        "--cafile", binary.toString(), "list");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().lines().toList()).containsExactly(
        "diskferry: error: CA file " + binary
            + " is not a PEM certificate bundle (no BEGIN CERTIFICATE line)");

    Path missing = dir.resolve("nope.pem");
    r = run(env(), "--engine-url", "https://127.0.0.1:1", "--username", "u",
        "--cafile", missing.toString(), "list");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().lines().toList())
        .containsExactly("diskferry: error: CA file " + missing + " does not exist");

    r = run(env(), "--engine-url", "https://127.0.0.1:1", "--username", "u",
        "--cafile", dir.toString(), "list");
    assertThat(r.err().lines().toList())
        .containsExactly("diskferry: error: CA file " + dir + " is a directory");
  }

  @Test
  void tlsSpokenToAPlainTextPortSaysSo() throws Exception {
    try (ServerSocket plain = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      Thread answer = new Thread(() -> {
        try (var s = plain.accept()) {
          s.getOutputStream().write(
              "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          s.getOutputStream().flush();
          s.getInputStream().read(new byte[512]);
        } catch (IOException ignored) {
          // the client hung up: expected
        }
      });
      answer.setDaemon(true);
      answer.start();
      Result r = run(env(), "--engine-url", "https://127.0.0.1:" + plain.getLocalPort(),
          "--username", "u", "list");
      assertThat(r.code()).as(r.toString()).isEqualTo(1);
      assertThat(firstLine(r))
          .contains("the server does not speak TLS on that port")
          .contains("is it an http:// URL, or the wrong port?");
      answer.join(5000);
    }
  }

  @Test
  void anEmptyEngineUrlInTheChosenProfileIsNamed() throws IOException {
    Path config = dir.resolve("home/.config/diskferry/config");
    Files.createDirectories(config.getParent());
    Files.writeString(config, "[lab]\nengine_url =\nusername = admin@internal\n");
    Result r = run(env(), "-c", "lab", "list");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().lines().toList())
        .containsExactly(
            "diskferry: error: engine_url is empty in profile lab in " + config
                + "; set it there or use --engine-url");
  }

  @Test
  void aCloudsYamlErrorHasItsLine() throws IOException {
    Path yaml = dir.resolve("clouds.yaml");
    Files.writeString(yaml, "clouds:\n  a:\n    auth: [x\n   bad: : :\n");
    Map<String, String> env = env();
    env.put("OS_CLIENT_CONFIG_FILE", yaml.toString());
    Result r = run(env, "--cloud", "a", "list");
    assertThat(r.code()).isEqualTo(2);
    assertThat(firstLine(r)).startsWith("diskferry: error: cannot read " + yaml + ": ")
        .matches(".*\\(line \\d+, column \\d+\\)$");
  }

  @Test
  void aSymlinkLoopOrDanglingLinkIsNamed() throws IOException {
    Path a = dir.resolve("a.img");
    Path b = dir.resolve("b.img");
    Files.createSymbolicLink(a, b);
    Files.createSymbolicLink(b, a);
    Result r = run(env(), "--engine-url", "https://127.0.0.1:1", "--username", "u",
        "upload", a.toString(), "-s", "data");
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().lines().toList())
        .containsExactly("diskferry: error: " + a + ": a loop of symbolic links");

    Path dangling = dir.resolve("d.img");
    Files.createSymbolicLink(dangling, dir.resolve("gone.img"));
    r = run(env(), "--engine-url", "https://127.0.0.1:1", "--username", "u",
        "upload", dangling.toString(), "-s", "data");
    assertThat(r.err().lines().toList())
        .containsExactly("diskferry: error: " + dangling + ": a symbolic link to "
            + dir.resolve("gone.img") + ", which does not exist");
  }

  @Test
  void sandboxBadDataDirAndBusyPortAreUsageErrors() throws IOException {
    Path file = Files.writeString(dir.resolve("not-a-dir"), "x");
    Result r = run(env(), "sandbox", "--data-dir", file.toString());
    assertThat(r.code()).isEqualTo(2);
    assertThat(r.err().lines().toList())
        .containsExactly("diskferry: error: --data-dir " + file + " is not a directory");

    try (ServerSocket busy = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      int port = busy.getLocalPort();
      r = run(env(), "sandbox", "--port", String.valueOf(port), "--data-dir",
          dir.resolve("sb").toString());
      assertThat(r.code()).isEqualTo(2);
      assertThat(r.err().lines().toList())
          .containsExactly("diskferry: error: cannot listen on 127.0.0.1:" + port
              + ": address already in use; choose another --port, or --port 0 for a free one");
    }
  }

  @Test
  void anEngineThatNeverAnswersIsGivenUpAfterTimeoutAndSaidWithV() throws Exception {
    try (ServerSocket silent = new ServerSocket(0, 8, InetAddress.getLoopbackAddress())) {
      java.util.List<java.net.Socket> held = new java.util.concurrent.CopyOnWriteArrayList<>();
      Thread accept = new Thread(() -> {
        try {
          for (int i = 0; i < 8; i++) {
            held.add(silent.accept()); // accepted, never answered
          }
        } catch (IOException ignored) {
          // closed by the test
        }
      });
      accept.setDaemon(true);
      accept.start();
      String url = "https://127.0.0.1:" + silent.getLocalPort();
      Result r = run(env(), "-v", "--timeout", "1", "--engine-url", url, "--username", "u", "list");
      silent.close();
      for (java.net.Socket s : held) {
        s.close();
      }
      assertThat(r.code()).as(r.toString()).isEqualTo(1);
      assertThat(r.err())
          .contains("diskferry: contacting the engine at " + url + " as u (timeout 1 s)");
      assertThat(r.err().lines().filter(l -> l.startsWith("diskferry: error: ")).toList())
          .singleElement()
          .asString()
          .contains(url)
          .containsIgnoringCase("timed out");
    }
    Result bad = run(env(), "--timeout", "0", "--engine-url", "https://127.0.0.1:1",
        "--username", "u", "list");
    assertThat(bad.code()).isEqualTo(2);
    // Range-checked by picocli, worded like every other option's range.
    assertThat(bad.err().lines().toList())
        .containsExactly(
            "diskferry: error: Invalid value for option '--timeout': 0 is out of range: from 1 to"
                + " 86400",
            "Try 'diskferry --help' for more information.");
  }
}
