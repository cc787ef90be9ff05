package org.diskferry.cli;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.diskferry.sandbox.Sandbox;
import org.diskferry.sandbox.SandboxConfig;

/** A TLS sandbox with fast timers, and a way to run diskferry commands in-process against it. */
final class SandboxFixture implements AutoCloseable {
  final Sandbox sandbox;
  final Path dir;

  SandboxFixture(Path dir) throws IOException {
    this(
        dir,
        Sandbox.start(
            SandboxConfig.defaults()
                .withDataDir(dir.resolve("sandbox"))
                .withTick(Duration.ofMillis(20))
                .withDiskReadyDelay(Duration.ofMillis(50))));
  }

  SandboxFixture(Path dir, Sandbox sandbox) {
    this.dir = dir;
    this.sandbox = sandbox;
  }

  /** The environment a script gets after sourcing the sandbox's env file, plus a clean HOME. */
  Map<String, String> env() {
    Map<String, String> env = new HashMap<>(sandbox.environment());
    env.put("HOME", dir.resolve("home").toString());
    return env;
  }

  /** The journal store the commands run by {@link #run} use. */
  org.diskferry.transfer.JournalStore journals() {
    return org.diskferry.transfer.JournalStore.fromEnvironment(env());
  }

  /** A client logged in to the sandbox's engine, for checks on what a command left there. */
  org.diskferry.ovirt.EngineClient engine() {
    return org.diskferry.ovirt.EngineClient.login(
        org.diskferry.http.HttpClientFactory.create(
            org.diskferry.http.TlsOptions.caFile(sandbox.caFile()), null),
        sandbox.engineUrl(),
        sandbox.username(),
        sandbox.password().toCharArray());
  }

  Result run(String... args) {
    return run(env(), args);
  }

  Result run(Map<String, String> env, String... args) {
    return inProcess(env, args);
  }

  /** Runs a diskferry command in this JVM with this environment. */
  static Result inProcess(Map<String, String> env, String... args) {
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

  /** Writes a file of random data with some all-zero blocks in it. */
  static Path image(Path file, long size, long seed, boolean withZeros) throws IOException {
    Random r = new Random(seed);
    byte[] block = new byte[64 * 1024];
    try (var out = Files.newOutputStream(file)) {
      long left = size;
      int i = 0;
      while (left > 0) {
        int n = (int) Math.min(block.length, left);
        if (withZeros && (i % 5 == 1 || i % 5 == 2)) {
          java.util.Arrays.fill(block, (byte) 0);
        } else {
          r.nextBytes(block);
        }
        out.write(block, 0, n);
        left -= n;
        i++;
      }
    }
    return file;
  }

  static List<String> args(String... a) {
    return new ArrayList<>(List.of(a));
  }

  @Override
  public void close() {
    sandbox.close();
  }

  /** What a command printed and returned. */
  record Result(int exit, String out, String err) {
    @Override
    public String toString() {
      return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
    }
  }
}
