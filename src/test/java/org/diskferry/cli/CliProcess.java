package org.diskferry.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import org.diskferry.ovirt.Poll;

/** diskferry in a child JVM, for tests that send signals or kill it outright. */
final class CliProcess {
  private CliProcess() {}

  static Process start(Map<String, String> env, Path stderr, String... args) throws IOException {
    return start(List.of(), env, stderr, args);
  }

  /** With JVM options, e.g. the launcher's heap size. */
  static Process start(List<String> jvmOptions, Map<String, String> env, Path stderr,
      String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.addAll(jvmOptions);
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add("org.diskferry.cli.Main");
    cmd.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.environment().putAll(env);
    pb.redirectError(stderr.toFile());
    pb.redirectOutput(stderr.resolveSibling(stderr.getFileName() + ".out").toFile());
    return pb.start();
  }

  /** Waits until the child's stderr contains {@code text}. */
  static void awaitOutput(Path stderr, String text) {
    Poll.until(
        Duration.ofSeconds(60),
        "'" + text + "' on the child's stderr",
        () -> {
          try {
            return Files.readString(stderr, StandardCharsets.UTF_8).contains(text)
                ? Optional.of(true)
                : Optional.empty();
          } catch (IOException e) {
            return Optional.empty();
          }
        });
  }

  static void signal(Process p, String signal) throws IOException, InterruptedException {
    Process kill = new ProcessBuilder("kill", "-" + signal, String.valueOf(p.pid())).start();
    if (!kill.waitFor(10, TimeUnit.SECONDS) || kill.exitValue() != 0) {
      throw new IOException("kill -" + signal + " failed");
    }
  }
}
