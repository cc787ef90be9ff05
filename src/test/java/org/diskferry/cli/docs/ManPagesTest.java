package org.diskferry.cli.docs;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * The man pages in {@code man/} are what the generator makes from the command model and the
 * fragments in {@code man/src/}, describe every visible option, and pass mandoc's linter and
 * man's rendering without a single message.
 */
class ManPagesTest {

  static final Path MAN = Path.of("man");
  static Map<String, String> generated;

  @BeforeAll
  static void generate() throws IOException {
    generated =
        ManPages.pages(
            CommandModel.root(),
            MAN.resolve("src"),
            System.getProperty("diskferry.version", "0.1.0"),
            System.getProperty("diskferry.release.date", "2026-01-01"));
  }

  private static List<Path> checkedIn() throws IOException {
    try (Stream<Path> s = Files.list(MAN)) {
      return s.filter(p -> p.toString().endsWith(".1")).sorted().toList();
    }
  }

  @Test
  void checkedInPagesAreTheGeneratedOnes() throws IOException {
    assertThat(checkedIn().stream().map(p -> p.getFileName().toString()))
        .as("man/*.1 against the commands; regenerate with " + CompletionScripts.REGENERATE)
        .containsExactlyInAnyOrderElementsOf(generated.keySet());
    for (Map.Entry<String, String> page : generated.entrySet()) {
      CompletionScriptsTest.assertUpToDate(MAN.resolve(page.getKey()), page.getValue());
    }
  }

  @Test
  void onePagePerCommandWithEveryVisibleOption() {
    assertThat(generated.keySet())
        .contains("diskferry.1", "diskferry-upload.1", "diskferry-download.1",
            "diskferry-sandbox.1", "diskferry-config-show.1")
        .doesNotContain("diskferry-help.1");
    for (CommandSpec c : CommandModel.tree(CommandModel.root())) {
      if (CommandModel.isHelpCommand(c)) {
        continue;
      }
      String page = generated.get(ManPages.pageName(c) + ".1");
      for (OptionSpec o : CommandModel.options(c)) {
        if (c.parent() != null && o.inherited()) {
          continue;
        }
        assertThat(page).as(c.qualifiedName() + " " + o.longestName())
            .contains("\\fB" + o.longestName().replace("-", "\\-") + "\\fR");
      }
    }
    assertThat(generated.get("diskferry.1"))
        .contains(".SH \"EXIT STATUS\"", ".SH ENVIRONMENT", ".SH FILES", ".SH EXAMPLES",
            "flock \\-n", "jq \\-r");
    assertThat(generated.get("diskferry-sandbox.1")).contains(".SH FAULTS", "idle\\-close");
    assertThat(generated.get("diskferry-resume.1")).contains("( \\fITRANSFER_ID\\fR | \\fB\\-\\-all\\fR )");
    // Pages without an EXIT STATUS fragment get the model's list.
    assertThat(generated.get("diskferry-list.1")).contains(".SH \"EXIT STATUS\"", ".B 75");
  }

  @Test
  void mandocLintIsSilent() throws Exception {
    Shells.requireOrSkip("mandoc");
    for (Path page : checkedIn()) {
      var r = CompletionScriptsTest.run(List.of("mandoc", "-T", "lint", page.toString()), Map.of());
      assertThat(r.out()).as("mandoc -T lint " + page).isEmpty();
      assertThat(r.code()).isZero();
    }
  }

  @Test
  void manRendersWithoutWarnings() throws Exception {
    Shells.requireOrSkip("man");
    for (Path page : checkedIn()) {
      Path err = Files.createTempFile("man", ".err");
      try {
        ProcessBuilder pb =
            new ProcessBuilder("man", "--warnings", "-E", "UTF-8", "-P", "cat", "-l", page.toString())
                .redirectError(err.toFile());
        pb.environment().put("MANWIDTH", "80");
        pb.environment().put("MANROFFSEQ", "");
        Process p = pb.start();
        p.getOutputStream().close();
        String text = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor()).isZero();
        assertThat(Files.readString(err)).as("man --warnings -l " + page).isEmpty();
        String name = page.getFileName().toString().replace(".1", "");
        assertThat(text).contains("NAME", name, "SYNOPSIS", "EXIT STATUS");
      } finally {
        Files.deleteIfExists(err);
      }
    }
  }
}
