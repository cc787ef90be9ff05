package org.diskferry.cli;

import java.nio.file.Path;
import picocli.CommandLine.Option;

/**
 * What a command prints and logs: a mixin of the commands that connect and of {@code config
 * show}; the root has it too, so that it can come before the command name.
 */
final class OutputOptions {

  @Option(
      names = {"-o", "--output"},
      paramLabel = "FORMAT",
      description = "Result format on stdout: ${COMPLETION-CANDIDATES} (default: text).")
  DiskferryCommand.OutputFormat format = DiskferryCommand.OutputFormat.text;

  @Option(names = {"-q", "--quiet"}, description = "Print less on stderr: no progress.")
  boolean quiet;

  @Option(
      names = {"-v", "--verbose"},
      description = "Print more on stderr; -vv also logs HTTP requests (never secrets).")
  boolean[] verbose = new boolean[0];

  @Option(names = "--log-file", paramLabel = "FILE", description = "Append the log to FILE as well.")
  Path logFile;

  boolean json() {
    return format == DiskferryCommand.OutputFormat.json;
  }
}
