package org.diskferry.cli.progress;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/** A PrintStream whose output the test reads back. */
final class Capture {
  private final ByteArrayOutputStream bytes = new ByteArrayOutputStream();
  final PrintStream stream = new PrintStream(bytes, true, StandardCharsets.UTF_8);

  String text() {
    stream.flush();
    return bytes.toString(StandardCharsets.UTF_8);
  }

  List<String> lines() {
    String t = text();
    return t.isEmpty() ? List.of() : Arrays.asList(t.split(System.lineSeparator()));
  }
}
