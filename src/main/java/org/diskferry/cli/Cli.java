package org.diskferry.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Map;
import org.diskferry.cli.progress.ProgressRenderer;
import org.diskferry.config.Settings;
import org.diskferry.error.DiskferryException;
import org.diskferry.http.Json;
import org.diskferry.transfer.TransferInterruptedException;
import picocli.CommandLine;
import picocli.CommandLine.ParameterException;

/**
 * One run of the tool: builds the picocli command tree, wires the streams, the environment and
 * the profile defaults, and turns every exception into one error line and an exit code.
 *
 * <p>It also owns what lives as long as the run: the {@code --log-file} (opened before the command
 * starts, closed after the last line) and the progress renderer (closed before anything is written
 * on stdout, so a result never shares a line with a progress bar). Every error line is written
 * here, to stderr and the log, and with {@code -o json} also as one JSON object on stdout.
 */
final class Cli {
  final PrintStream out;
  final PrintStream err;
  final Map<String, String> env;
  final boolean signals;
  private Settings settings;
  private DiskferryCommand root;
  private RunLog log;
  private ProgressRenderer progress;
  private CommandLine.ParseResult parsed;
  private PrintStream safeOut;

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
    root = new DiskferryCommand(this);
    CommandLine cmd = DiskferryCommand.commandLine(root, DiskferryCommand.needed(args));
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    cmd.setCaseInsensitiveEnumValuesAllowed(true);
    cmd.setParameterExceptionHandler(this::usageError);
    cmd.setExecutionExceptionHandler((e, c, parsed) -> failure(e, parsed));
    cmd.setExecutionStrategy(this::start);
    try {
      try {
        settings = Settings.load(env, configFile(args), profile(args), this::warn);
      } catch (DiskferryException e) {
        return report(e);
      }
      cmd.setDefaultValueProvider(new ProfileDefaults(settings));
      return cmd.execute(args);
    } finally {
      closeProgress();
      if (log != null) {
        log.close();
      }
    }
  }

  /** Opens the log file before the command runs (exit 2 when it cannot be), then runs it. */
  private int start(CommandLine.ParseResult parsed) {
    this.parsed = parsed;
    if (root.logFile != null && log == null) {
      try {
        log = RunLog.open(root.logFile);
      } catch (DiskferryException e) {
        return report(e);
      }
    }
    return new CommandLine.RunLast().execute(parsed);
  }

  /** Appends a line to the log file, if there is one. */
  void log(String message) {
    RunLog l = log;
    if (l != null) {
      l.line(message);
    }
  }

  /** A warning on stderr (and in the log). */
  void warn(String message) {
    message = Printable.line(message);
    err.println("diskferry: warning: " + message);
    log("warning: " + message);
  }

  /**
   * The run's progress renderer: registered here so that it is closed (its bar finished, its last
   * event flushed) before the result or an error is printed.
   */
  <T extends ProgressRenderer> T progress(T renderer) {
    closeProgress();
    progress = renderer;
    return renderer;
  }

  /** Finishes the progress display, if one is open; harmless when there is none. */
  void closeProgress() {
    ProgressRenderer p = progress;
    progress = null;
    if (p != null) {
      try {
        p.close();
      } catch (RuntimeException ignored) {
        // Nothing useful to do about a renderer that fails to close.
      }
    }
  }

  /** stdout, after the progress display has been finished. */
  PrintStream stdout() {
    closeProgress();
    if (root == null || root.output == DiskferryCommand.OutputFormat.json) {
      return out; // JSON escapes control characters itself
    }
    if (safeOut == null) {
      safeOut = Printable.stream(out);
    }
    return safeOut;
  }

  /**
   * One error line on stderr and in the log, for a failure that does not end the run (one journal
   * of {@code resume --all}, say).
   */
  void error(String message) {
    closeProgress();
    String line = oneLine(message);
    err.println("diskferry: error: " + line);
    log("error: " + line);
  }

  private int usageError(ParameterException e, String[] args) {
    String message = usageMessage(e);
    error(message);
    CommandLine c = e.getCommandLine();
    err.println("Try '" + c.getCommandSpec().qualifiedName() + " --help' for more information.");
    jsonError(message, 2, null, false);
    return 2;
  }

  /** picocli's message, in the tool's words where picocli's do not help. */
  static String usageMessage(ParameterException e) {
    String m = e.getMessage() == null ? "" : e.getMessage().replaceFirst("^Error: ", "");
    if (e instanceof CommandLine.UnmatchedArgumentException u
        && u.getCommandLine().getParent() == null
        && !u.getUnmatched().isEmpty()
        && !u.getUnmatched().get(0).startsWith("-")) {
      String word = u.getUnmatched().get(0);
      java.util.List<String> like = u.getSuggestions();
      return "unknown command '" + word + "'"
          + (like.isEmpty() ? "" : "; did you mean " + String.join(" or ", like) + "?")
          + " Commands: " + String.join(", ", DiskferryCommand.SUBCOMMANDS);
    }
    return m;
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
      return fail(
          withHint(ie.getMessage(),
              ie.resumable() ? DiskferryException.Hint.RESUME_OR_CANCEL
                  : DiskferryException.Hint.NONE, ie.transferId()),
          Signals.exitCode(), ie.transferId(), ie.resumable());
    }
    String msg = e.getMessage();
    return fail(msg == null || msg.isBlank() ? e.getClass().getSimpleName() : msg, 1, null, false);
  }

  private int report(DiskferryException e) {
    return fail(describe(e), e.kind().exitCode(), e.transferId(), e.resumable());
  }

  /** The message of {@code e} with the command it suggests, as this run would type it. */
  String describe(DiskferryException e) {
    return withHint(e.getMessage(), e.hint(), e.transferId());
  }

  private String withHint(String message, DiskferryException.Hint hint, String id) {
    if (id == null || hint == null) {
      return message;
    }
    return switch (hint) {
      case NONE -> message;
      case RESUME -> message + "; '" + command("resume", id) + "' continues it";
      case RESUME_OR_CANCEL -> message + "; '" + command("resume", id) + "' continues it, '"
          + command("cancel", id) + "' drops it";
      case CANCEL -> message + "; '" + command("cancel", id) + "' cleans it up";
    };
  }

  /**
   * A command line for {@code diskferry SUBCOMMAND ID} that reaches the same engine or cloud as
   * this run: the connection options given on this command line (a profile, a config file, a
   * cloud, the engine URL...) come along; settings from variables and profiles apply anyway.
   */
  String command(String subcommand, String id) {
    StringBuilder b = new StringBuilder("diskferry");
    String[] carried = {
      "--profile", "--config", "--cloud", "--engine-url", "--username", "--password-file",
      "--cafile", "--timeout"
    };
    boolean cloudGiven = false;
    for (String name : carried) {
      CommandLine.Model.OptionSpec o = matched(name);
      Object value = o == null ? null : o.getValue();
      if (value != null) {
        cloudGiven |= name.equals("--cloud");
        b.append(' ').append(o.shortestName()).append(' ').append(shellWord(value.toString()));
      }
    }
    if (matched("--insecure") != null) {
      b.append(" --insecure");
    }
    String osCloud = env.get("OS_CLOUD");
    if (!cloudGiven && root != null && root.cloud == null && osCloud != null && !osCloud.isBlank()
        && matched("--engine-url") == null) {
      // The cloud came from the environment, which the suggested command may not have.
      b.append(" --cloud ").append(shellWord(osCloud));
    }
    return b.append(' ').append(subcommand).append(' ').append(shellWord(id)).toString();
  }

  private CommandLine.Model.OptionSpec matched(String name) {
    for (CommandLine.ParseResult p = parsed; p != null; p = p.subcommand()) {
      CommandLine.Model.OptionSpec o = p.matchedOption(name);
      if (o != null) {
        return o;
      }
    }
    return null;
  }

  /** A word as a POSIX shell reads it back: quoted when it holds anything but plain characters. */
  static String shellWord(String s) {
    return s.matches("[A-Za-z0-9_@%+=:,./-]+") ? s : "'" + s.replace("'", "'\\''") + "'";
  }

  /** The one error line that ends a run, and its exit code. */
  private int fail(String message, int code, String transferId, boolean resumable) {
    error(message);
    jsonError(message, code, transferId, resumable);
    return code;
  }

  /** With {@code -o json}: the error as one object on stdout, so that {@code | jq} reads one. */
  private void jsonError(String message, int code, String transferId, boolean resumable) {
    if (root == null || root.output != DiskferryCommand.OutputFormat.json) {
      return;
    }
    // Built as a tree so that an unknown transfer id is written as null, not left out.
    com.fasterxml.jackson.databind.node.ObjectNode doc = Json.mapper().createObjectNode();
    com.fasterxml.jackson.databind.node.ObjectNode error = doc.putObject("error");
    error.put("message", oneLine(message == null ? "" : message));
    error.put("exit_code", code);
    error.put("transfer_id", transferId);
    error.put("resumable", resumable);
    try {
      out.println(Json.mapper().writeValueAsString(doc));
    } catch (java.io.IOException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String oneLine(String s) {
    return Printable.line(s.replaceAll("\\s*[\\r\\n]+\\s*", " ").trim());
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
