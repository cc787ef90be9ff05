package org.diskferry.cli;

import java.io.PrintStream;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.diskferry.config.Settings;
import org.diskferry.error.DiskferryException;
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
 */
final class Cli implements CommandLine.IExecutionStrategy {
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
    DiskferryCommand root = new DiskferryCommand(this);
    CommandLine cmd = DiskferryCommand.commandLine(root, DiskferryCommand.needed(args));
    cmd.setOut(new PrintWriter(out, true));
    cmd.setErr(new PrintWriter(err, true));
    cmd.setCaseInsensitiveEnumValuesAllowed(true);
    cmd.setParameterExceptionHandler(this::usageError);
    cmd.setExecutionExceptionHandler((e, c, parsed) -> failure(e, parsed));
    cmd.setExecutionStrategy(this);
    // Two passes, because the defaults depend on the profile: the first finds -c/--profile and
    // --config wherever and however they are written (-qc NAME, -c=NAME, after the command);
    // the second, with the profile's defaults, is the one that runs. A usage error is reported
    // by the second.
    try {
      cmd.parseArgs(args);
    } catch (ParameterException e) {
      // Reported by the second pass; what was parsed before the error still names the profile.
    }
    try {
      settings = Settings.load(env, root.config, root.profile, this::warn);
    } catch (DiskferryException e) {
      return report(e);
    }
    cmd.setDefaultValueProvider(new ProfileDefaults(settings));
    return cmd.execute(args);
  }

  /**
   * Runs the parsed command after the checks picocli cannot make alone: options given before
   * the command name go to the command (or are a usage error where it does not take them), and
   * a command that connects learns its platform.
   */
  @Override
  public int execute(ParseResult parsed) {
    List<ParseResult> chain = new ArrayList<>();
    for (ParseResult p = parsed; p != null; p = p.subcommand()) {
      if (p.isUsageHelpRequested() || p.isVersionHelpRequested()) {
        return new CommandLine.RunLast().execute(parsed);
      }
      chain.add(p);
    }
    ParseResult leaf = chain.get(chain.size() - 1);
    CommandSpec spec = leaf.commandSpec();
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
    if (spec.userObject() instanceof EngineCommand c) {
      c.platform = Platform.choose(spec, given, settings, env, c.connection.openstack.cloud);
    }
    return new CommandLine.RunLast().execute(parsed);
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
}
