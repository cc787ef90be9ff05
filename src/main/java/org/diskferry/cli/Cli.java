package org.diskferry.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.diskferry.cli.progress.ProgressRenderer;
import org.diskferry.config.Settings;
import org.diskferry.error.DiskferryException;
import org.diskferry.http.Json;
import org.diskferry.transfer.TransferInterruptedException;
import picocli.CommandLine;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.ScopeType;

/**
 * One run of the tool: builds the picocli command tree, wires the streams, the environment and
 * the profile defaults, and turns every exception into one error line and an exit code.
 *
 * <p>It also owns what lives as long as the run: the {@code --log-file} (opened before the command
 * starts, closed after the last line) and the progress renderer (closed before anything is written
 * on stdout, so a result never shares a line with a progress bar). Every error line is written
 * here, to stderr and the log, and with {@code -o json} also as one JSON object on stdout.
 */
final class Cli implements CommandLine.IExecutionStrategy {
  final PrintStream out;
  final PrintStream err;
  final Map<String, String> env;
  final boolean signals;
  private Settings settings;
  private DiskferryCommand root;
  private RunLog log;
  private ProgressRenderer progress;
  private CommandLine.ParseResult parsed;
  /** The output options of the command that runs (or the root's, before one is known). */
  private OutputOptions output;
  /** The command that runs, once parsed. */
  private Object command;
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
    cmd.setExecutionStrategy(this);
    try {
      // Two passes, because the defaults depend on the profile: the first finds -c/--profile and
      // --config wherever and however they are written (-qc NAME, -c=NAME, after the command);
      // the second, with the profile's defaults, is the one that runs. A usage error is reported
      // by the second.
      try {
        cmd.parseArgs(args);
      } catch (ParameterException e) {
        // Reported by the second pass; what was parsed before the error still names the profile.
      }
      output = outputOf(cmd.getCommandSpec());
      try {
        settings = Settings.load(env, root.config, root.profile, this::warn);
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

  /** The output options mixed into a command, or null when it has none. */
  private static OutputOptions outputOf(CommandSpec spec) {
    CommandSpec mixin = spec.mixins().get("output");
    return mixin != null && mixin.userObject() instanceof OutputOptions o ? o : null;
  }

  /**
   * Runs the parsed command after the checks picocli cannot make alone: options given before
   * the command name go to the command (or are a usage error where it does not take them), a
   * command that connects learns its platform, and the log file is opened (exit 2 when it cannot
   * be) before anything starts.
   */
  @Override
  public int execute(ParseResult parsed) {
    this.parsed = parsed;
    List<ParseResult> chain = new ArrayList<>();
    for (ParseResult p = parsed; p != null; p = p.subcommand()) {
      if (p.isUsageHelpRequested() || p.isVersionHelpRequested()) {
        return new CommandLine.RunLast().execute(parsed);
      }
      chain.add(p);
    }
    ParseResult leaf = chain.get(chain.size() - 1);
    CommandSpec spec = leaf.commandSpec();
    command = spec.userObject();
    Set<String> given = new HashSet<>();
    for (ParseResult p : chain) {
      for (OptionSpec o : p.matchedOptions()) {
        given.add(o.longestName());
        if (p == leaf || o.inherited() || o.scopeType() == ScopeType.INHERIT) {
          continue;
        }
        OptionSpec own = spec.findOption(o.longestName());
        if (own == null) {
          throw new ParameterException(spec.commandLine(),
              o.longestName() + " does not apply to '" + spec.qualifiedName() + "'");
        }
        if (!leaf.hasMatchedOption(own)) {
          own.setValue(o.getValue());
        }
      }
    }
    OutputOptions leafOutput = outputOf(spec);
    if (leafOutput != null) {
      output = leafOutput;
    }
    if (command instanceof EngineCommand c) {
      c.platform = Platform.choose(spec, given, settings, env, c.connection.openstack.cloud);
    }
    if (output != null && output.logFile != null && log == null) {
      try {
        log = RunLog.open(output.logFile);
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
    if (json()) {
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
    if (!cloudGiven && command instanceof EngineCommand c && c.glance() && osCloud != null
        && !osCloud.isBlank()) {
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

  private boolean json() {
    return output != null && output.json();
  }

  /** With {@code -o json}: the error as one object on stdout, so that {@code | jq} reads one. */
  private void jsonError(String message, int code, String transferId, boolean resumable) {
    if (!json()) {
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
}
