package org.diskferry.cli.docs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import picocli.CommandLine.Model.ArgGroupSpec;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * Writes the man pages: {@code diskferry.1} and one {@code diskferry-COMMAND.1} per subcommand.
 * NAME, SYNOPSIS, COMMANDS and OPTIONS come from the command model; DESCRIPTION, EXIT STATUS,
 * ENVIRONMENT, FILES, EXAMPLES, SEE ALSO and any other section come from the hand-written roff
 * in {@code man/src/PAGE.roff} (one {@code .SH} per section), in their order after the
 * generated ones. A page without a DESCRIPTION fragment gets the command's description; one
 * without EXIT STATUS gets the model's exit codes after OPTIONS; one without SEE ALSO gets
 * diskferry(1).
 */
public final class ManPages {
  private ManPages() {}

  /** Sections placed by the generator: a fragment's DESCRIPTION is used, NAME and SYNOPSIS not. */
  private static final List<String> LEADING = List.of("NAME", "SYNOPSIS", "DESCRIPTION");

  /** Writes every page. Arguments: fragment directory, output directory, version, date. */
  public static void main(String[] args) throws IOException {
    Path fragments = Path.of(args[0]);
    Path out = Files.createDirectories(Path.of(args[1]));
    for (Map.Entry<String, String> page :
        pages(CommandModel.root(), fragments, args[2], args[3]).entrySet()) {
      Files.writeString(out.resolve(page.getKey()), page.getValue(), StandardCharsets.UTF_8);
    }
  }

  /** File name → page text, for every command but the help command. */
  static Map<String, String> pages(CommandSpec root, Path fragments, String version, String date)
      throws IOException {
    Map<String, String> pages = new LinkedHashMap<>();
    for (CommandSpec c : CommandModel.tree(root)) {
      if (CommandModel.isHelpCommand(c)) {
        continue;
      }
      String name = pageName(c);
      Path fragment = fragments.resolve(name + ".roff");
      String hand = Files.exists(fragment) ? Files.readString(fragment, StandardCharsets.UTF_8) : "";
      pages.put(name + ".1", page(c, root, sections(hand), version, date));
    }
    return pages;
  }

  /** {@code diskferry}, {@code diskferry-upload}, {@code diskferry-config-show}. */
  static String pageName(CommandSpec c) {
    return c.qualifiedName("-");
  }

  /** The fragment's sections by title, in file order; text before the first .SH is dropped. */
  static Map<String, String> sections(String roff) {
    Map<String, String> sections = new LinkedHashMap<>();
    String title = null;
    StringBuilder body = new StringBuilder();
    for (String line : roff.split("\n", -1)) {
      if (line.startsWith(".SH ")) {
        if (title != null) {
          sections.put(title, body.toString());
        }
        title = line.substring(4).strip().replace("\"", "");
        body.setLength(0);
      } else if (title != null) {
        body.append(line).append('\n');
      }
    }
    if (title != null) {
      sections.put(title, body.toString());
    }
    sections.replaceAll((t, b) -> b.strip() + "\n");
    return sections;
  }

  private static String page(
      CommandSpec c, CommandSpec root, Map<String, String> hand, String version, String date) {
    StringBuilder p = new StringBuilder();
    p.append(".\\\" Generated from the command model and man/src/")
        .append(pageName(c))
        .append(".roff by org.diskferry.cli.docs.ManPages; do not edit.\n");
    p.append(".\\\" After changing commands or options run: ")
        .append(CompletionScripts.REGENERATE)
        .append('\n');
    p.append(".TH ")
        .append(pageName(c).toUpperCase(Locale.ROOT).replace("-", "\\-"))
        .append(" 1 ")
        .append(date)
        .append(" \"diskferry ")
        .append(version)
        .append("\" \"diskferry Manual\"\n");
    section(p, "NAME");
    // The NUL stands for the "\-" between name and summary, which text() would escape.
    p.append(text(pageName(c) + " \0 " + lowerFirst(CommandModel.summary(c))).replace("\0", "\\-"))
        .append('\n');
    section(p, "SYNOPSIS");
    p.append(synopsis(c));
    section(p, "DESCRIPTION");
    if (hand.containsKey("DESCRIPTION")) {
      p.append(hand.get("DESCRIPTION"));
    } else {
      paragraphs(p, c.usageMessage().description());
    }
    List<CommandSpec> subs = CommandModel.subcommands(c);
    if (!subs.isEmpty()) {
      section(p, "COMMANDS");
      for (CommandSpec s : subs) {
        p.append(".TP\n.B ").append(s.name()).append('\n');
        if (CommandModel.isHelpCommand(s)) {
          p.append(text(CommandModel.summary(s) + ".")).append('\n');
        } else {
          p.append(text(CommandModel.summary(s) + ". See")).append('\n');
          p.append(".BR \\%").append(pageName(s).replace("-", "\\-")).append(" (1).\n");
        }
      }
    }
    options(p, c);
    if (!hand.containsKey("EXIT STATUS")) {
      exitStatus(p, root);
    }
    for (Map.Entry<String, String> s : hand.entrySet()) {
      if (!LEADING.contains(s.getKey())) {
        section(p, s.getKey());
        p.append(s.getValue());
      }
    }
    if (!hand.containsKey("SEE ALSO")) {
      section(p, "SEE ALSO");
      p.append(".BR diskferry (1)\n");
    }
    return p.toString();
  }

  private static void section(StringBuilder p, String title) {
    p.append(".SH ").append(title.contains(" ") ? "\"" + title + "\"" : title).append('\n');
  }

  private static String synopsis(CommandSpec c) {
    StringBuilder s = new StringBuilder(".B diskferry\n");
    if (c.parent() == null) {
      s.append(".RI [ options ]\n.I command\n.RI [ command\\-options ]\n");
      return s.toString();
    }
    s.append(".RI [ global\\-options ]\n");
    List<String> path = new ArrayList<>();
    for (CommandSpec x = c; x.parent() != null; x = x.parent()) {
      path.add(0, x.name());
    }
    s.append(".B ").append(String.join(" ", path)).append('\n');
    if (!ownOptions(c).isEmpty()) {
      s.append(".RI [ options ]\n");
    }
    for (ArgGroupSpec g : c.argGroups()) {
      if (!g.exclusive()) {
        continue; // a section of the options, not a choice
      }
      String alternatives =
          g.args().stream().map(ManPages::synopsisArg).collect(Collectors.joining(" | "));
      s.append(g.multiplicity().min() > 0 ? "( " : "[ ").append(alternatives);
      s.append(g.multiplicity().min() > 0 ? " )" : " ]").append('\n');
    }
    for (PositionalParamSpec pp : CommandModel.positionals(c)) {
      if (pp.group() != null) {
        continue;
      }
      String arg = "\\fI" + pp.paramLabel() + "\\fR" + (pp.arity().max() > 1 ? "..." : "");
      s.append(pp.arity().min() == 0 ? "[" + arg + "]" : arg).append('\n');
    }
    if (!CommandModel.subcommands(c).isEmpty()) {
      s.append(".I command\n");
    }
    return s.toString();
  }

  private static String synopsisArg(ArgSpec a) {
    if (a instanceof OptionSpec o) {
      return "\\fB" + o.longestName().replace("-", "\\-") + "\\fR";
    }
    return "\\fI" + a.paramLabel() + "\\fR";
  }

  /** Options not inherited from the root, visible. */
  private static List<OptionSpec> ownOptions(CommandSpec c) {
    return CommandModel.options(c).stream().filter(o -> !o.inherited()).toList();
  }

  private static void options(StringBuilder p, CommandSpec c) {
    List<PositionalParamSpec> params = CommandModel.positionals(c);
    List<OptionSpec> own = ownOptions(c);
    if (params.isEmpty() && own.isEmpty()) {
      return;
    }
    section(p, c.parent() == null ? "OPTIONS" : "ARGUMENTS AND OPTIONS");
    for (PositionalParamSpec pp : params) {
      p.append(".TP\n.I ").append(pp.paramLabel()).append('\n');
      paragraphs(p, pp.description());
    }
    List<ArgGroupSpec> sections = new ArrayList<>();
    for (ArgGroupSpec g : c.argGroups()) {
      if (g.heading() != null && !g.heading().isBlank()) {
        sections.add(g);
      }
    }
    sections.sort(Comparator.comparingInt(ArgGroupSpec::order));
    for (OptionSpec o : own) {
      if (o.group() == null || !sections.contains(o.group())) {
        option(p, o);
      }
    }
    for (ArgGroupSpec g : sections) {
      List<OptionSpec> in = own.stream().filter(o -> o.group() == g).toList();
      if (in.isEmpty()) {
        continue;
      }
      String title = g.heading().replace("%n", "").strip();
      title = title.endsWith(":") ? title.substring(0, title.length() - 1) : title;
      p.append(".SS \"").append(text(title).replace("\n", " ")).append("\"\n");
      for (OptionSpec o : in) {
        option(p, o);
      }
    }
    List<String> inherited = CommandModel.options(c).stream().filter(OptionSpec::inherited)
        .map(o -> "\\fB" + o.longestName().replace("-", "\\-") + "\\fR").toList();
    if (c.parent() != null && !inherited.isEmpty()) {
      p.append(".PP\nThe global options ").append(String.join(", ", inherited))
          .append(" of\n.BR diskferry (1)\napply too.\n");
    }
  }

  private static void option(StringBuilder p, OptionSpec o) {
    p.append(".TP\n");
    List<String> names = new ArrayList<>();
    for (String n : o.names()) {
      names.add("\\fB" + n.replace("-", "\\-") + "\\fR");
    }
    p.append(String.join(", ", names));
    if (CommandModel.takesValue(o)) {
      p.append(" \\fI").append(o.paramLabel()).append("\\fR");
    }
    p.append('\n');
    paragraphs(p, o.description());
  }

  private static void exitStatus(StringBuilder p, CommandSpec root) {
    section(p, "EXIT STATUS");
    for (Map.Entry<String, String> e : root.usageMessage().exitCodeList().entrySet()) {
      p.append(".TP\n.B ").append(e.getKey().strip()).append('\n');
      p.append(text(upperFirst(e.getValue().strip()))).append(".\n");
    }
  }

  /** Description lines as roff paragraphs (picocli's %n breaks a line into two). */
  private static void paragraphs(StringBuilder p, String[] description) {
    boolean first = true;
    for (String d : description) {
      for (String para : d.split("%n")) {
        if (para.isBlank()) {
          continue;
        }
        if (!first) {
          p.append(p.lastIndexOf(".TP\n") > p.lastIndexOf(".SH") ? ".IP\n" : ".PP\n");
        }
        p.append(text(para.strip())).append('\n');
        first = false;
      }
    }
  }

  private static final Pattern OPTION_DASH = Pattern.compile("(?<![\\w-])(--?)(?=[\\w])");

  /**
   * Plain text as roff: backslashes escaped, option dashes as \-, filled to lines of at most 79
   * characters (where the words allow), no line starting with a control character.
   */
  static String text(String s) {
    String t = s.replace("\\", "\\e").replace('\n', ' ');
    Matcher m = OPTION_DASH.matcher(t);
    t = m.replaceAll(r -> r.group(1).replace("-", "\\\\-"));
    StringBuilder out = new StringBuilder();
    StringBuilder line = new StringBuilder();
    for (String word : t.strip().split(" +")) {
      if (line.length() > 0 && line.length() + 1 + word.length() > 79) {
        out.append(controlSafe(line.toString())).append('\n');
        line.setLength(0);
      }
      if (line.length() > 0) {
        line.append(' ');
      }
      line.append(word);
    }
    return out.append(controlSafe(line.toString())).toString();
  }

  private static String controlSafe(String line) {
    return line.startsWith(".") || line.startsWith("'") ? "\\&" + line : line;
  }

  private static String lowerFirst(String s) {
    return s.isEmpty() || s.length() > 1 && Character.isUpperCase(s.charAt(1))
        ? s
        : Character.toLowerCase(s.charAt(0)) + s.substring(1);
  }

  private static String upperFirst(String s) {
    return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
  }
}
