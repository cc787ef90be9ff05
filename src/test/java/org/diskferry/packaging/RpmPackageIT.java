package org.diskferry.packaging;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.diskferry.cli.docs.Shells;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What the build's .rpm holds, read with rpm (built wherever rpmbuild is; always in CI). */
class RpmPackageIT {

  Path rpm;

  @BeforeEach
  void rpm() {
    Shells.requireOrSkip("rpmbuild");
    rpm = Path.of(System.getProperty("diskferry.rpm"));
    assertThat(rpm).exists();
  }

  @Test
  void filesModesAndOwners() throws Exception {
    List<String> dump = Packages.run("rpm", "-qp", "--dump", rpm.toString()).lines().toList();
    // --dump: path size mtime digest mode owner group ...
    assertThat(dump.stream().map(l -> {
      String[] f = l.split(" ");
      return f[0] + " " + f[4] + " " + f[5] + ":" + f[6];
    }))
        .contains(
            "/usr/bin/diskferry 0100755 root:root",
            "/usr/share/diskferry/diskferry.jar 0100644 root:root",
            "/usr/share/bash-completion/completions/diskferry 0100644 root:root",
            "/usr/share/zsh/site-functions/_diskferry 0100644 root:root",
            "/usr/share/man/man1/diskferry.1 0100644 root:root",
            "/usr/share/man/man1/diskferry-upload.1 0100644 root:root",
            "/usr/share/man/man1/diskferry-sandbox.1 0100644 root:root",
            "/usr/share/doc/diskferry/README.md 0100644 root:root",
            "/usr/share/licenses/diskferry/LICENSE 0100644 root:root");
    List<String> pages;
    try (var s = Files.list(Path.of("man"))) {
      pages = s.map(p -> p.getFileName().toString()).filter(n -> n.endsWith(".1")).toList();
    }
    for (String page : pages) {
      assertThat(dump).anyMatch(l -> l.startsWith("/usr/share/man/man1/" + page + " "));
    }
  }

  @Test
  void requiresJava17AndIsNoarch() throws Exception {
    assertThat(Packages.run("rpm", "-qpR", rpm.toString()).lines())
        .contains("java-headless >= 1:17", "/bin/sh");
    assertThat(Packages.run("rpm", "-qp", "--qf", "%{NAME} %{VERSION} %{ARCH} %{LICENSE}", rpm.toString()))
        .isEqualTo("diskferry " + System.getProperty("diskferry.version") + " noarch Apache-2.0");
  }
}
