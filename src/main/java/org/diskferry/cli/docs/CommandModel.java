package org.diskferry.cli.docs;

import java.io.File;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.diskferry.cli.DiskferryCommand;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * The picocli command tree as the completion and man page generators see it: visible commands,
 * options and parameters, and what kind of value each one takes.
 */
final class CommandModel {
  private CommandModel() {}

  /** What a shell should offer for a value. */
  enum ValueKind {
    /** Free text: nothing to offer. */
    NONE,
    FILE,
    DIRECTORY,
    /** A section of the config files. */
    PROFILE,
    /** A cloud of clouds.yaml. */
    CLOUD,
    /** The words of {@link #candidates(ArgSpec)}. */
    WORDS,
    /** The sibling subcommands (the help command's parameter). */
    COMMANDS
  }

  /** The root command's spec, built the way the tool builds it (without profile defaults). */
  static CommandSpec root() {
    return DiskferryCommand.commandLine(new DiskferryCommand()).getCommandSpec();
  }

  /** The command and its visible subcommands, depth first, each once (aliases skipped). */
  static List<CommandSpec> tree(CommandSpec root) {
    List<CommandSpec> all = new ArrayList<>();
    collect(root, all, Collections.newSetFromMap(new IdentityHashMap<>()));
    return all;
  }

  private static void collect(CommandSpec spec, List<CommandSpec> all, Set<CommandSpec> seen) {
    if (!seen.add(spec)) {
      return;
    }
    all.add(spec);
    for (CommandSpec sub : subcommands(spec)) {
      collect(sub, all, seen);
    }
  }

  /** Visible subcommands by their primary name, in declaration order. */
  static List<CommandSpec> subcommands(CommandSpec spec) {
    Set<CommandSpec> seen = Collections.newSetFromMap(new IdentityHashMap<>());
    List<CommandSpec> subs = new ArrayList<>();
    for (Map.Entry<String, CommandLine> e : spec.subcommands().entrySet()) {
      CommandSpec sub = e.getValue().getCommandSpec();
      if (!sub.usageMessage().hidden() && seen.add(sub)) {
        subs.add(sub);
      }
    }
    return subs;
  }

  /** Visible options in declaration order. */
  static List<OptionSpec> options(CommandSpec spec) {
    return spec.options().stream().filter(o -> !o.hidden()).toList();
  }

  /** Visible positional parameters by index. */
  static List<PositionalParamSpec> positionals(CommandSpec spec) {
    return spec.positionalParameters().stream().filter(p -> !p.hidden()).toList();
  }

  /** A name made of the command path, e.g. {@code diskferry_config_show}. */
  static String id(CommandSpec spec) {
    return spec.qualifiedName("_").replace('-', '_');
  }

  static boolean isHelpCommand(CommandSpec spec) {
    return spec.userObject() instanceof CommandLine.HelpCommand;
  }

  static boolean takesValue(OptionSpec o) {
    return o.arity().max() > 0;
  }

  /** An option that may be given more than once without a value, such as {@code -vv}. */
  static boolean repeatable(OptionSpec o) {
    return o.isMultiValue();
  }

  static ValueKind kind(CommandSpec owner, ArgSpec arg) {
    if (arg instanceof OptionSpec o && o.longestName().equals("--profile")) {
      return ValueKind.PROFILE;
    }
    if (arg instanceof OptionSpec o && o.longestName().equals("--cloud")) {
      return ValueKind.CLOUD;
    }
    if (arg instanceof PositionalParamSpec && isHelpCommand(owner)) {
      return ValueKind.COMMANDS;
    }
    if (!candidates(arg).isEmpty()) {
      return ValueKind.WORDS;
    }
    Class<?> type = arg.type().isArray() ? arg.type().getComponentType() : arg.type();
    if (type == Path.class || type == File.class) {
      return arg.paramLabel().equals("DIR") ? ValueKind.DIRECTORY : ValueKind.FILE;
    }
    return ValueKind.NONE;
  }

  /** The values picocli knows for an argument: an enum's constants or completionCandidates. */
  static List<String> candidates(ArgSpec arg) {
    Iterable<String> c = arg.completionCandidates();
    List<String> words = new ArrayList<>();
    if (c != null) {
      for (Iterator<String> it = c.iterator(); it.hasNext(); ) {
        words.add(it.next());
      }
    }
    return words;
  }

  /** A period followed by a capital letter ("e.g. https" goes on). */
  private static final Pattern SENTENCE_END = Pattern.compile("\\.\\s+(?=[A-Z])");

  /** The first sentence of a command's header, else of its description. */
  static String summary(CommandSpec spec) {
    String[] header = spec.usageMessage().header();
    return summary(header.length > 0 ? header : spec.usageMessage().description());
  }

  /** The first sentence of the first description line, without its final period. */
  static String summary(String[] description) {
    if (description.length == 0) {
      return "";
    }
    String s = description[0].replace("%n", " ").strip();
    Matcher end = SENTENCE_END.matcher(s);
    if (end.find()) {
      s = s.substring(0, end.start());
    }
    return s.endsWith(".") ? s.substring(0, s.length() - 1) : s;
  }
}
