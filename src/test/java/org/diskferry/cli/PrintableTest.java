package org.diskferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

/** Names and server texts cannot drive the terminal. */
class PrintableTest {

  @Test
  void controlCharactersAreShownNotSent() {
    assertThat(Printable.line("evil\u001b[2J\u0000name\u009b")).isEqualTo(
        "evil\\x1b[2J\\x00name\\x9b");
    assertThat(Printable.line("two\nlines")).isEqualTo("two\\x0alines");
    assertThat(Printable.text("a\tb\nc\rd")).isEqualTo("a\tb\nc\\x0dd");
    String plain = "débian-12 (ok)";
    assertThat(Printable.line(plain)).isSameAs(plain);
  }

  @Test
  void theResultStreamEscapesWhatIsPrintedInAnyWay() {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    PrintStream out = Printable.stream(new PrintStream(bytes, true, StandardCharsets.UTF_8));
    out.printf("%-8s|%n", "x\u001b]0;owned\u0007");
    out.println("ünïcode\u001b[31m");
    out.print((Object) "obj\u0000");
    out.flush();
    assertThat(bytes.toString(StandardCharsets.UTF_8)).isEqualTo(
        "x\\x1b]0;owned\\x07|\nünïcode\\x1b[31m\nobj\\x00");
  }

  @Test
  void errorsAndWarningsAreEscapedOnStderr() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Cli cli = new Cli(new PrintStream(out, true, StandardCharsets.UTF_8),
        new PrintStream(err, true, StandardCharsets.UTF_8), java.util.Map.of(), false);
    cli.warn("image \u001b[8mhidden");
    cli.error("server said \u001b[2J");
    assertThat(err.toString(StandardCharsets.UTF_8)).isEqualTo(
        "diskferry: warning: image \\x1b[8mhidden\ndiskferry: error: server said \\x1b[2J\n");
  }
}
