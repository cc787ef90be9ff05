package org.diskferry.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.diskferry.http.Version;
import picocli.CommandLine.Command;
import picocli.CommandLine.IVersionProvider;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;

/**
 * The root command: the options every subcommand takes ({@code -c}, {@code --config}, output and
 * logging), and the connection options, which only the commands that connect take after their
 * name. The subcommands are in {@link
 * #SUBCOMMANDS}, not in the annotation, so that a run builds only those its arguments name.
 */
@Command(
    name = "diskferry",
    mixinStandardHelpOptions = true,
    versionProvider = DiskferryCommand.VersionProvider.class,
    description =
        "Move virtual-machine disk images into and out of oVirt/RHV and OpenStack Glance.",
    commandListHeading = "%nCommands:%n",
    exitCodeListHeading = "%nExit status:%n",
    exitCodeList = {
      "0:success",
      "1:the transfer failed",
      "2:usage error or bad local input",
      "3:authentication, authorization or TLS trust failure",
      "4:not found",
      "5:conflict: locked or in the wrong state",
      "75:transient failure after retries",
      "130:interrupted by SIGINT",
      "143:interrupted by SIGTERM"
    })
public final class DiskferryCommand implements Runnable {

  /** The subcommands, in the order help lists them. */
  static final List<String> SUBCOMMANDS =
      List.of(
          "upload", "download", "status", "cancel", "resume", "list", "backup", "config", "sandbox",
          "help");

  /** A new instance of a subcommand (plain code: no lambda bootstrap in every run's path). */
  static Object newSubcommand(String name) {
    switch (name) {
      case "upload":
        return new UploadCommand();
      case "download":
        return new DownloadCommand();
      case "status":
        return new StatusCommand();
      case "cancel":
        return new CancelCommand();
      case "resume":
        return new ResumeCommand();
      case "list":
        return new ListCommand();
      case "backup":
        return new BackupCommand();
      case "config":
        return new ConfigCommand();
      case "sandbox":
        return new SandboxCommand();
      case "help":
        return new picocli.CommandLine.HelpCommand();
      default:
        throw new IllegalArgumentException("no command " + name);
    }
  }

  final Cli cli;

  DiskferryCommand(Cli cli) {
    this.cli = cli;
  }

  /** Used by picocli tools (completion and man page generators) that need a no-arg command. */
  public DiskferryCommand() {
    this(null);
  }

  @Option(
      names = {"-c", "--profile"},
      scope = ScopeType.INHERIT,
      paramLabel = "NAME",
      description = "Use this section of the config file (ovirt-img's -c NAME works too).")
  String profile;

  @Option(
      names = "--config",
      scope = ScopeType.INHERIT,
      paramLabel = "FILE",
      description = "Read this config file instead of the default ones.")
  Path config;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  /** The whole command tree, as help, completion scripts and man pages show it. */
  public static picocli.CommandLine commandLine(DiskferryCommand root) {
    return commandLine(root, SUBCOMMANDS);
  }

  /** The root with the named subcommands only. */
  static picocli.CommandLine commandLine(DiskferryCommand root, List<String> names) {
    picocli.CommandLine cmd = new picocli.CommandLine(root);
    if (names.isEmpty()) {
      return cmd;
    }
    // The connection and output options that may come before the command name. Added here, not
    // with @Mixin, so that a bare --version reads no annotation types it does not need (each
    // one costs a dynamic proxy class in every run, which no class-data archive keeps).
    CommandSpec rootSpec = cmd.getCommandSpec();
    rootSpec.addMixin("connection", CommandSpec.forAnnotatedObject(new ConnectionOptions()));
    rootSpec.addMixin("output", CommandSpec.forAnnotatedObject(new OutputOptions()));
    for (String name : names) {
      cmd.addSubcommand(name, newSubcommand(name));
    }
    OptionTypes.register(cmd);
    return cmd;
  }

  /**
   * The subcommands a run needs: building a command's model reflects on its classes, which is
   * most of what a short run costs. Every subcommand named anywhere in the arguments (a word
   * can also be an option's value, so all of them); none for a bare --version; all of them
   * for help and whenever none is named, so that usage errors can suggest the right one.
   */
  static List<String> needed(String[] args) {
    List<String> words = Arrays.asList(args);
    List<String> named = new ArrayList<>();
    for (String name : SUBCOMMANDS) {
      if (words.contains(name)) {
        named.add(name);
      }
    }
    boolean version = words.contains("--version") || words.contains("-V");
    if (named.contains("help") || askHelp(args) || named.isEmpty() && !version) {
      return SUBCOMMANDS;
    }
    return named;
  }

  /** --help, or -h alone or among other short flags (-qh); a false match only costs time. */
  private static boolean askHelp(String[] args) {
    for (String a : args) {
      if (a.equals("--help")
          || a.length() > 1 && a.charAt(0) == '-' && a.charAt(1) != '-' && a.indexOf('h') > 0) {
        return true;
      }
    }
    return false;
  }

  @Override
  public void run() {
    throw new picocli.CommandLine.ParameterException(spec.commandLine(), "missing command");
  }

  /** Result formats. */
  enum OutputFormat {
    text,
    json
  }

  /** Prints the version from the jar manifest. */
  static final class VersionProvider implements IVersionProvider {
    @Override
    public String[] getVersion() {
      return new String[] {"diskferry " + Version.get()};
    }
  }
}
