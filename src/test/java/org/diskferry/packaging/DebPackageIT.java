package org.diskferry.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** What the build's .deb holds, read with dpkg-deb. */
class DebPackageIT {

  static final long MAX_SIZE = 15L * 1024 * 1024;

  private static Path deb() {
    Path deb = Path.of(System.getProperty("diskferry.deb"));
    assertThat(deb).exists();
    return deb;
  }

  private static String dpkgDeb(String... args) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder();
    pb.command().add("dpkg-deb");
    pb.command().addAll(List.of(args));
    pb.redirectErrorStream(true);
    Process p;
    try {
      p = pb.start();
    } catch (IOException e) {
      assumeTrue(false, "dpkg-deb is not installed");
      throw e;
    }
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try (InputStream in = p.getInputStream()) {
      in.transferTo(out);
    }
    assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
    String text = out.toString(StandardCharsets.UTF_8);
    assertThat(p.exitValue()).as(text).isZero();
    return text;
  }

  @Test
  void controlFields() throws Exception {
    String control = dpkgDeb("-f", deb().toString());

    assertThat(control)
        .contains("Package: diskferry\n")
        .contains("Version: " + System.getProperty("diskferry.version") + "\n")
        .contains("Architecture: all\n")
        .contains("Depends: default-jre-headless (>= 2:1.17) | java17-runtime-headless\n")
        .contains("Installed-Size: ");
  }

  @Test
  void contentsAndModes() throws Exception {
    Map<String, String> modes = new HashMap<>();
    for (String line : dpkgDeb("-c", deb().toString()).split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length >= 6) {
        modes.put(f[f.length - 1], f[0] + " " + f[1]);
      }
    }

    assertThat(modes)
        .containsEntry("./usr/share/diskferry/diskferry.jar", "-rw-r--r-- root/root")
        .containsEntry("./usr/bin/diskferry", "-rwxr-xr-x root/root")
        .containsEntry(
            "./usr/share/bash-completion/completions/diskferry", "-rw-r--r-- root/root")
        .containsEntry("./usr/share/man/man1/diskferry.1.gz", "-rw-r--r-- root/root")
        .containsEntry("./usr/share/man/man1/diskferry-upload.1.gz", "-rw-r--r-- root/root")
        .containsEntry("./usr/share/man/man1/diskferry-config-show.1.gz", "-rw-r--r-- root/root")
        .containsEntry("./usr/share/zsh/vendor-completions/_diskferry", "-rw-r--r-- root/root")
        .containsEntry("./usr/share/doc/diskferry/README.md", "-rw-r--r-- root/root")
        .containsEntry("./usr/share/doc/diskferry/copyright", "-rw-r--r-- root/root");
  }

  @Test
  void everyManPageIsPackaged() throws Exception {
    String contents = dpkgDeb("-c", deb().toString());
    try (var pages = Files.list(Path.of("man"))) {
      pages
          .map(p -> p.getFileName().toString())
          .filter(n -> n.endsWith(".1"))
          .forEach(n -> assertThat(contents).contains("./usr/share/man/man1/" + n + ".gz\n"));
    }
  }

  @Test
  void theManPageIsGzippedWithoutNameOrTimestamp() throws Exception {
    Path gz = Path.of(System.getProperty("diskferry.jar")).resolveSibling("man/diskferry.1.gz");
    byte[] b = Files.readAllBytes(gz);

    assertThat(b[0] & 0xff).isEqualTo(0x1f);
    assertThat(b[1] & 0xff).isEqualTo(0x8b);
    assertThat(b[3] & 0x08).as("FNAME flag (gzip -n leaves the name out)").isZero();
    assertThat(new byte[] {b[4], b[5], b[6], b[7]}).as("MTIME").containsOnly(0);
    assertThat(b[8] & 0xff).as("XFL: best compression (-9)").isEqualTo(2);
  }

  @Test
  void sizeLimit() throws IOException {
    assertThat(Files.size(deb())).isLessThanOrEqualTo(MAX_SIZE);
  }
}
