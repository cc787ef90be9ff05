package org.diskferry.cli;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Callable;
import org.diskferry.config.Settings;
import org.diskferry.http.Json;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.ParseResult;
import picocli.CommandLine.Spec;

/** {@code diskferry config show}: the effective settings and where each came from. */
@Command(
    name = "config",
    description = "Inspect the configuration.",
    subcommands = {ConfigCommand.Show.class})
final class ConfigCommand implements Runnable {

  @ParentCommand DiskferryCommand root;

  @Mixin HelpOption help;

  @Spec CommandSpec spec;

  @Override
  public void run() {
    throw new ParameterException(spec.commandLine(), "missing subcommand: use 'config show'");
  }

  /** One effective setting: its value (secrets masked) and where it came from. */
  record Entry(String value, String source) {}

  /** Prints the effective settings: a table, or with -o json an object key → {value, source}. */
  @Command(
      name = "show",
      description = {
        "Show the effective settings: each key, its value (secrets masked) and where it came"
            + " from: a command-line option, a DISKFERRY_* variable, or the profile."
      })
  static final class Show implements Callable<Integer> {

    /** Global options that are not settings, or whose value is shown under another key. */
    private static final Set<String> NOT_SETTINGS =
        Set.of("profile", "config", "output", "quiet", "verbose", "password_file");

    /** Shown first, in this order, when they have a value. */
    private static final List<String> FIRST =
        List.of("engine_url", "username", "password", "cafile", "insecure");

    @ParentCommand ConfigCommand config;

    @Mixin HelpOption help;

    /** Shown with the other settings when given here. */
    @Mixin ConnectionOptions connection;

    @Mixin OutputOptions output;

    @Override
    public Integer call() throws IOException {
      DiskferryCommand root = config.root;
      Map<String, Entry> entries = effective(root);
      if (output.json()) {
        root.cli.out.println(Json.mapper().writeValueAsString(entries));
      } else {
        printTable(root.cli.out, entries);
      }
      return 0;
    }

    /** Settings from the environment and the profile, overridden by the options given. */
    static Map<String, Entry> effective(DiskferryCommand root) {
      Settings settings = root.cli.settings();
      Map<String, String> masked = settings.maskedValues();
      Map<String, Entry> fromOptions = givenOptions(root.spec.commandLine().getParseResult());

      Set<String> keys = new LinkedHashSet<>();
      for (String k : FIRST) {
        if (masked.containsKey(k) || fromOptions.containsKey(k)) {
          keys.add(k);
        }
      }
      keys.addAll(masked.keySet());
      keys.addAll(fromOptions.keySet());

      Map<String, Entry> result = new LinkedHashMap<>();
      for (String k : keys) {
        Entry e = fromOptions.get(k);
        result.put(k, e != null ? e : new Entry(masked.get(k), settings.sourceOf(k)));
      }
      return result;
    }

    /**
     * The global options matched on the command line, at any level (before or after the command
     * names), keyed like the settings: {@code --engine-url} is {@code engine_url}.
     */
    private static Map<String, Entry> givenOptions(ParseResult parsed) {
      Map<String, Entry> result = new LinkedHashMap<>();
      for (ParseResult p = parsed; p != null; p = p.subcommand()) {
        for (OptionSpec o : p.matchedOptions()) {
          if (o.usageHelp() || o.versionHelp()) {
            continue;
          }
          String key = ProfileDefaults.key(o);
          if (key.equals("password_file")) {
            // The password comes from that file first; it is never read here.
            result.put("password", new Entry(Settings.mask(key, "set"), "option " + o.longestName()));
            continue;
          }
          if (NOT_SETTINGS.contains(key)) {
            continue;
          }
          Object v = p.matchedOptionValue(o.longestName(), null);
          String value = v == null ? "" : v.toString();
          result.put(key, new Entry(Settings.mask(key, value), "option " + o.longestName()));
        }
      }
      return result;
    }

    private static void printTable(java.io.PrintStream out, Map<String, Entry> entries) {
      List<String[]> rows = new ArrayList<>();
      rows.add(new String[] {"KEY", "VALUE", "SOURCE"});
      entries.forEach((k, e) -> rows.add(new String[] {k, e.value(), e.source()}));
      int keyWidth = 0;
      int valueWidth = 0;
      for (String[] r : rows) {
        keyWidth = Math.max(keyWidth, r[0].length());
        valueWidth = Math.max(valueWidth, r[1].length());
      }
      String format = "%-" + keyWidth + "s  %-" + valueWidth + "s  %s%n";
      for (String[] r : rows) {
        out.printf(format, r[0], r[1], r[2]);
      }
    }
  }
}
