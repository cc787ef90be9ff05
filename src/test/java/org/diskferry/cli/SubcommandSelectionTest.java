package org.diskferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** A run builds only the subcommands its arguments name, and behaves as with all of them. */
class SubcommandSelectionTest {

  static final List<String> ALL = DiskferryCommand.SUBCOMMANDS;

  private static List<String> needed(String... args) {
    return DiskferryCommand.needed(args);
  }

  @Test
  void selection() {
    assertThat(needed("--version")).isEmpty();
    assertThat(needed("-V")).isEmpty();
    assertThat(needed("status")).containsExactly("status");
    assertThat(needed("-q", "download", "disk", "f.raw")).containsExactly("download");
    // A profile named like a command: both are built, the parser tells them apart.
    assertThat(needed("-c", "upload", "status")).containsExactly("upload", "status");
    assertThat(needed("config", "show")).containsExactly("config");
    assertThat(needed("--help")).isEqualTo(ALL);
    assertThat(needed("status", "-qh")).isEqualTo(ALL);
    assertThat(needed("help", "upload")).isEqualTo(ALL);
    assertThat(needed()).isEqualTo(ALL);
    assertThat(needed("uplod")).isEqualTo(ALL);
  }

  record Run(int code, String out, String err) {}

  private static Run run(String... args) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    int code =
        Main.run(
            new PrintStream(out, true, StandardCharsets.UTF_8),
            new PrintStream(err, true, StandardCharsets.UTF_8),
            Map.of("HOME", "/nonexistent"),
            args);
    return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
  }

  @Test
  void runsAsWithTheWholeTree() {
    assertThat(run("--version").out()).startsWith("diskferry ");
    Run help = run("--help");
    assertThat(help.code()).isZero();
    assertThat(help.out()).contains("upload", "download", "sandbox", "config");
    Run typo = run("uplod");
    assertThat(typo.code()).isEqualTo(2);
    assertThat(typo.err()).startsWith("diskferry: error: ");
    Run sub = run("upload", "--help");
    assertThat(sub.code()).isZero();
    assertThat(sub.out()).contains("--storage-domain");
    Run help2 = run("help", "download");
    assertThat(help2.out()).contains("--force");
  }
}
