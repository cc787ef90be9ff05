package org.diskferry.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * bin/diskferry with the packaged jar, on the JDK running the tests: the AppCDS archive (on Java
 * 25+ the AOT cache) is written on the first run, published (assembled) by the second and used
 * from then on, and nothing but
 * diskferry's own output reaches stdout on any of those runs.
 */
class LauncherIT {

  /** Java 25+ gets an AOT cache instead of a dynamic CDS archive. */
  static final boolean AOT = Runtime.version().feature() >= 25;

  /** What the first run leaves: a dump (CDS) or a recorded configuration (AOT), by pid. */
  static final String PENDING = AOT ? "\\.aot\\.\\d+\\.conf" : "\\.jsa\\.\\d+\\.tmp";

  @TempDir Path cache;

  record Run(int code, String out, String err) {}

  private Run launch(Map<String, String> extraEnv, String... args)
      throws IOException, InterruptedException {
    Path jar = Path.of(System.getProperty("diskferry.jar"));
    ProcessBuilder pb = new ProcessBuilder();
    pb.command().add(Path.of("bin", "diskferry").toAbsolutePath().toString());
    pb.command().addAll(List.of(args));
    Map<String, String> env = pb.environment();
    env.remove("DISKFERRY_JAVA_OPTS");
    env.remove("DISKFERRY_CDS");
    env.put("DISKFERRY_JAR", jar.toString());
    env.put("JAVA_HOME", System.getProperty("java.home"));
    env.put("XDG_CACHE_HOME", cache.toString());
    env.putAll(extraEnv);
    Path out = cache.resolve("stdout");
    Path err = cache.resolve("stderr");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process p = pb.start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).as("the launcher finished").isTrue();
    Run r =
        new Run(
            p.exitValue(),
            Files.readString(out, StandardCharsets.UTF_8),
            Files.readString(err, StandardCharsets.UTF_8));
    Files.delete(out);
    Files.delete(err);
    return r;
  }

  private List<String> cacheFiles() throws IOException {
    Path dir = cache.resolve("diskferry");
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(dir)) {
      return s.map(p -> p.getFileName().toString()).sorted().toList();
    }
  }

  @Test
  void archiveIsWrittenPublishedAndUsedWithCleanStdout() throws Exception {
    String version = "diskferry " + System.getProperty("diskferry.version") + "\n";

    Run first = launch(Map.of(), "--version");
    assertThat(first).isEqualTo(new Run(0, version, ""));
    assertThat(cacheFiles()).singleElement().asString().matches("diskferry-.*" + PENDING);

    Run second = launch(Map.of(), "--version");
    assertThat(second).isEqualTo(new Run(0, version, ""));
    assertThat(cacheFiles()).singleElement().asString()
        .matches("diskferry-\\d+-\\d+-\\d+-java-.*-cli" + (AOT ? "\\.aot" : "\\.jsa"));

    // -Xshare:on (-XX:AOTMode=on for an AOT cache) makes an archive that cannot be mapped a
    // fatal error: this run proves it is used.
    Run third =
        launch(Map.of("DISKFERRY_JAVA_OPTS", AOT ? "-XX:AOTMode=on" : "-Xshare:on"), "--version");
    assertThat(third).isEqualTo(new Run(0, version, ""));
  }

  @Test
  void eachKindOfCommandHasItsOwnArchive() throws Exception {
    assertThat(launch(Map.of(), "--version").code()).isZero();
    // No engine configured: list fails at once, after its classes were loaded.
    Run list = launch(Map.of("HOME", cache.toString()), "list");
    assertThat(list.code()).isEqualTo(2);
    assertThat(list.err()).startsWith("diskferry: error: no engine");

    assertThat(cacheFiles())
        .hasSize(2)
        .anyMatch(f -> f.matches("diskferry-.*-cli" + PENDING))
        .anyMatch(f -> f.matches("diskferry-.*-engine" + PENDING));
  }

  @Test
  void anArchiveOfAnotherJarIsReplaced() throws Exception {
    Path dir = Files.createDirectories(cache.resolve("diskferry"));
    Files.writeString(dir.resolve("diskferry-1-2-3-java-17.jsa"), "old");

    assertThat(launch(Map.of(), "--version").code()).isZero();

    assertThat(cacheFiles()).singleElement().asString().matches(".*-cli" + PENDING);
  }

  @Test
  void cdsCanBeTurnedOff() throws Exception {
    Run r = launch(Map.of("DISKFERRY_CDS", "0"), "--version");

    assertThat(r.code()).isZero();
    assertThat(r.err()).isEmpty();
    assertThat(cacheFiles()).isEmpty();
  }

  @Test
  void anUnusableCacheDirectoryIsIgnored() throws Exception {
    Path notADir = Files.writeString(cache.resolve("file"), "x");

    Run r = launch(Map.of("XDG_CACHE_HOME", notADir.toString()), "--version");

    assertThat(r.code()).isZero();
    assertThat(r.err()).isEmpty();
  }
}
