package org.diskferry.cli;

import picocli.CommandLine.Option;

/** {@code -h/--help} for a subcommand; {@code -V/--version} belongs to the root only. */
final class HelpOption {
  @Option(
      names = {"-h", "--help"},
      usageHelp = true,
      description = "Show this help message and exit.")
  boolean help;
}
