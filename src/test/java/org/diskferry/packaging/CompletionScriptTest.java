package org.diskferry.packaging;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.diskferry.cli.DiskferryCommand;
import org.junit.jupiter.api.Test;
import picocli.AutoComplete;
import picocli.CommandLine;

/**
 * The bash completion script in {@code completions/} is checked in so that it can be used from a
 * source checkout and reviewed in diffs; it must be what picocli generates from the current
 * commands. The build makes the same script as {@code target/completions/diskferry}.
 */
class CompletionScriptTest {

  static final String REFRESH =
      "completions/diskferry is out of date with the commands and options."
          + " Refresh it with: mvn -B -ntp -DskipTests package"
          + " && cp target/completions/diskferry completions/diskferry";

  @Test
  void checkedInScriptIsTheGeneratedOne() throws IOException {
    String generated = AutoComplete.bash("diskferry", new CommandLine(new DiskferryCommand()));
    Path checkedIn = Path.of("completions", "diskferry");

    assertThat(checkedIn).as(REFRESH).exists();
    String current = Files.readString(checkedIn, StandardCharsets.UTF_8);
    if (!current.equals(generated)) {
      fail(REFRESH + "\n" + firstDifference(current, generated));
    }
  }

  /** Where the two texts first differ, by line, so the failure stays short. */
  static String firstDifference(String checkedIn, String generated) {
    List<String> a = checkedIn.lines().toList();
    List<String> b = generated.lines().toList();
    int n = Math.min(a.size(), b.size());
    for (int i = 0; i < n; i++) {
      if (!a.get(i).equals(b.get(i))) {
        return "first difference at line " + (i + 1) + ":\n  checked in: " + a.get(i)
            + "\n  generated:  " + b.get(i);
      }
    }
    return a.size() == b.size()
        ? "the texts differ in line endings or a final newline"
        : "checked in has " + a.size() + " lines, generated has " + b.size();
  }
}
