package org.diskferry.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The .tar.gz: its layout, and its launcher run straight from where it was unpacked. */
class TarballIT {

  @TempDir Path tmp;

  private static Path tarball() {
    Path t = Path.of(System.getProperty("diskferry.tarball"));
    assertThat(t).exists();
    return t;
  }

  @Test
  void layoutAndModes() throws Exception {
    String top = "diskferry-" + System.getProperty("diskferry.version") + "/";
    Map<String, String> modes = new HashMap<>();
    for (String line : Packages.run("tar", "tzvf", tarball().toString()).split("\n")) {
      String[] f = line.trim().split("\\s+");
      modes.put(f[f.length - 1], f[0] + " " + f[1]);
    }
    assertThat(modes)
        .containsEntry(top + "bin/diskferry", "-rwxr-xr-x root/root")
        .containsEntry(top + "share/diskferry/diskferry.jar", "-rw-r--r-- root/root")
        .containsEntry(top + "share/man/man1/diskferry.1", "-rw-r--r-- root/root")
        .containsEntry(top + "share/man/man1/diskferry-download.1", "-rw-r--r-- root/root")
        .containsEntry(top + "share/bash-completion/completions/diskferry", "-rw-r--r-- root/root")
        .containsEntry(top + "share/zsh/site-functions/_diskferry", "-rw-r--r-- root/root")
        .containsEntry(top + "README.md", "-rw-r--r-- root/root")
        .containsEntry(top + "LICENSE", "-rw-r--r-- root/root");
    assertThat(modes.keySet()).allMatch(p -> p.startsWith(top));
  }

  @Test
  void unpackedLauncherRuns() throws Exception {
    Packages.run("tar", "xzf", tarball().toString(), "-C", tmp.toString());
    Path launcher = tmp.resolve("diskferry-" + System.getProperty("diskferry.version"))
        .resolve("bin/diskferry");

    ProcessBuilder pb = new ProcessBuilder(launcher.toString(), "--version");
    pb.environment().remove("DISKFERRY_JAR");
    pb.environment().put("DISKFERRY_CDS", "0");
    pb.environment().put("JAVA_HOME", System.getProperty("java.home"));
    Path out = tmp.resolve("out");
    Path err = tmp.resolve("err");
    pb.redirectOutput(out.toFile()).redirectError(err.toFile());
    Process p = pb.start();
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();

    assertThat(Files.readString(err, StandardCharsets.UTF_8)).isEmpty();
    assertThat(Files.readString(out, StandardCharsets.UTF_8))
        .isEqualTo("diskferry " + System.getProperty("diskferry.version") + "\n");
    assertThat(p.exitValue()).isZero();
  }
}
