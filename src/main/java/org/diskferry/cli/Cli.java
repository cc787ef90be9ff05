package org.diskferry.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import org.diskferry.config.Settings;
import org.diskferry.error.DiskferryException;
import org.diskferry.transfer.TransferInterruptedException;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/**
 * One run of the tool: builds the picocli command tree, wires the streams, the environment and
 * the profile defaults, and turns every exception into one error line and an exit code.
 */
final class Cli {
  final PrintStream out;
  final PrintStream err;
  final Map<String, String> env;
  final boolean signals;
  private Settings settings;

  Cli(PrintStream out, PrintStream err, Map<String, String> env, boolean signals) {
    this.out = out;
    this.err = err;
    this.env = env;
    this.signals = signals;
  }

  Settings settings() {
    return settings;
  }

  int execute(String... args) {
    CommandLine cmd =
        DiskferryCommand.commandLine(new DiskferryCommand(this), DiskferryCommand.needed(args));
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    cmd.setCaseInsensitiveEnumValuesAllowed(true);
    cmd.setParameterExceptionHandler(this::usageError);
    cmd.setExecutionExceptionHandler((e, c, parsed) -> failure(e, parsed));
    try {
      settings = Settings.load(env, configFile(args), profile(args), this::warn);
    } catch (DiskferryException e) {
      return report(e);
    }
    cmd.setDefaultValueProvider(new ProfileDefaults(settings));
    return cmd.execute(args);
  }

  void warn(String message) {
    err.println("diskferry: warning: " + message);
  }

  private int usageError(ParameterException e, String[] args) {
    err.println("diskferry: error: " + e.getMessage());
    CommandLine c = e.getCommandLine();
    err.println("Try '" + c.getCommandSpec().qualifiedName() + " --help' for more information.");
    return 2;
  }

  private int failure(Exception e, CommandLine.ParseResult parsed) {
    boolean verbose = verbose(parsed);
    if (verbose) {
      e.printStackTrace(err);
    }
    if (e instanceof DiskferryException de) {
      return report(de);
    }
    if (e instanceof TransferInterruptedException ie) {
      err.println("diskferry: error: " + ie.getMessage());
      return Signals.exitCode();
    }
    String msg = e.getMessage();
    err.println(
        "diskferry: error: "
            + (msg == null || msg.isBlank() ? e.getClass().getSimpleName() : oneLine(msg)));
    return 1;
  }

  private int report(DiskferryException e) {
    err.println("diskferry: error: " + oneLine(e.getMessage()));
    return e.kind().exitCode();
  }

  private static String oneLine(String s) {
    return s.replaceAll("\\s*[\\r\\n]+\\s*", " ").trim();
  }

  private static boolean verbose(CommandLine.ParseResult parsed) {
    for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
      if (p.hasMatchedOption("-v")) {
        return true;
      }
    }
    return false;
  }

  /** -c/--profile NAME, found before picocli parses, because defaults depend on it. */
  static String profile(String[] args) {
    return optionValue(args, "-c", "--profile");
  }

  static Path configFile(String[] args) {
    String v = optionValue(args, null, "--config");
    return v == null ? null : Path.of(v);
  }

  private static String optionValue(String[] args, String shortName, String longName) {
    String found = null;
    for (int i = 0; i < args.length; i++) {
      String a = args[i];
      if (a.equals("--")) {
        break;
      }
      if ((a.equals(longName) || a.equals(shortName)) && i + 1 < args.length) {
        found = args[++i];
      } else if (a.startsWith(longName + "=")) {
        found = a.substring(longName.length() + 1);
      } else if (shortName != null && a.startsWith(shortName) && a.length() > shortName.length()
          && !a.startsWith("--")) {
        found = a.substring(shortName.length());
      }
    }
    return found;
  }
}
