package org.diskferry.cli.docs;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.diskferry.cli.docs.CommandModel.ValueKind;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.Model.PositionalParamSpec;

/**
 * Writes the bash and zsh completion scripts from the command model: subcommands, options,
 * profile names (the sections of the config files), the values an option accepts and file
 * names where an option or parameter takes a file. Run by the build with the output directory
 * as its argument.
 */
public final class CompletionScripts {
  private CompletionScripts() {}

  static final String REGENERATE = "mvn -B -ntp -DskipTests -Pregenerate package";

  /** Writes {@code diskferry} (bash) and {@code _diskferry} (zsh) into the directory args[0]. */
  public static void main(String[] args) throws IOException {
    Path dir = Files.createDirectories(Path.of(args[0]));
    CommandSpec root = CommandModel.root();
    Files.writeString(dir.resolve("diskferry"), bash(root), StandardCharsets.UTF_8);
    Files.writeString(dir.resolve("_diskferry"), zsh(root), StandardCharsets.UTF_8);
  }

  /** A shell word in single quotes. */
  static String quote(String s) {
    return "'" + s.replace("'", "'\\''") + "'";
  }

  private static String words(List<String> words) {
    return quote(String.join(" ", words));
  }

  /** The sed script that prints the section names of INI files, DEFAULT excepted. */
  private static final String SECTIONS_SED =
      "'/^[[:space:]]*\\[DEFAULT\\][[:space:]]*$/d;"
          + " s/^[[:space:]]*\\[\\(..*\\)\\][[:space:]]*$/\\1/p'";

  /**
   * The awk program that prints the clouds of a clouds.yaml: the keys one level under the
   * top-level {@code clouds:}.
   */
  private static final String CLOUDS_AWK =
      "'/^clouds:[[:space:]]*$/ { c = 1; next } /^[^[:space:]#]/ { c = 0 }"
          + " c && /^[[:space:]]+[^[:space:]#][^:]*:/ { match($0, /^[[:space:]]+/);"
          + " if (!n) n = RLENGTH; if (RLENGTH == n) { k = $0; sub(/^[[:space:]]+/, \"\", k);"
          + " sub(/:.*/, \"\", k); gsub(/[\"]/, \"\", k); print k } }'";

  private static String header(String shell) {
    return "# "
        + shell
        + " completion for diskferry. Generated from its command model by\n"
        + "# org.diskferry.cli.docs.CompletionScripts; do not edit. After changing options run:\n"
        + "#   "
        + REGENERATE
        + "\n";
  }

  // ---------------------------------------------------------------- bash

  static String bash(CommandSpec root) {
    List<CommandSpec> tree = CommandModel.tree(root);
    StringBuilder b = new StringBuilder();
    b.append(header("bash"));
    b.append(
        """

        # The profiles: sections of the config file given with --config, else of diskferry's and
        # ovirt-img's config files.
        _diskferry_profile_names() {
          local config=$1 home=${XDG_CONFIG_HOME:-}
          [[ $home == /* ]] || home=${HOME:+$HOME/.config}
          local -a files=()
          if [[ -n $config ]]; then
            files=("${config/#\\~/$HOME}")
          elif [[ -n $home ]]; then
            files=("$home/diskferry/config" "$home/ovirt-img.conf")
          fi
          [[ ${#files[@]} -gt 0 ]] || return 0
          sed -n %s "${files[@]}" 2>/dev/null
        }

        # The clouds: envvars (the OS_* variables) and those of the first clouds.yaml found where
        # openstacksdk looks.
        _diskferry_cloud_names() {
          local f
          echo envvars
          for f in "${OS_CLIENT_CONFIG_FILE:-}" clouds.yaml clouds.yml \\
            "${HOME:-}/.config/openstack/clouds.yaml" "${HOME:-}/.config/openstack/clouds.yml" \\
            /etc/openstack/clouds.yaml /etc/openstack/clouds.yml; do
            if [[ -n $f && -f $f ]]; then
              awk %s "$f" 2>/dev/null
              return 0
            fi
          done
        }

        """
            .formatted(SECTIONS_SED, CLOUDS_AWK));

    b.append("# The subcommands of a command.\n_diskferry_subcommands() {\n  case $1 in\n");
    for (CommandSpec c : tree) {
      List<String> subs = CommandModel.subcommands(c).stream().map(CommandSpec::name).toList();
      if (!subs.isEmpty()) {
        b.append("    ").append(CommandModel.id(c)).append(") echo ").append(words(subs));
        b.append(" ;;\n");
      }
    }
    b.append("  esac\n}\n\n");

    b.append("# The options of a command.\n_diskferry_options() {\n  case $1 in\n");
    for (CommandSpec c : tree) {
      List<String> names = new ArrayList<>();
      CommandModel.options(c).forEach(o -> names.addAll(List.of(o.names())));
      b.append("    ").append(CommandModel.id(c)).append(") echo ").append(words(names));
      b.append(" ;;\n");
    }
    b.append("  esac\n}\n\n");

    b.append(
        "# Whether option $2 of command $1 takes a value.\n"
            + "_diskferry_takes_value() {\n  case \"$1:$2\" in\n");
    List<String> valued = new ArrayList<>();
    for (CommandSpec c : tree) {
      for (OptionSpec o : CommandModel.options(c)) {
        if (CommandModel.takesValue(o)) {
          for (String n : o.names()) {
            valued.add(CommandModel.id(c) + ":" + n);
          }
        }
      }
    }
    if (!valued.isEmpty()) {
      b.append("    ").append(String.join(" | ", valued)).append(") return 0 ;;\n");
    }
    b.append("  esac\n  return 1\n}\n\n");

    b.append(
        """
        # Fills COMPREPLY with the values of kind $1 that start with $2 ($3: the words for WORDS,
        # the --config file for PROFILE, the command for COMMANDS).
        _diskferry_values() {
          local IFS=$'\\n'
          case $1 in
            FILE) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -f -- "$2")) ;;
            DIRECTORY) compopt -o filenames 2>/dev/null; COMPREPLY=($(compgen -d -- "$2")) ;;
            PROFILE) COMPREPLY=($(compgen -W "$(_diskferry_profile_names "$3")" -- "$2")) ;;
            CLOUD) COMPREPLY=($(compgen -W "$(_diskferry_cloud_names)" -- "$2")) ;;
            WORDS) IFS=' '; COMPREPLY=($(compgen -W "$3" -- "$2")) ;;
            COMMANDS) IFS=' '; COMPREPLY=($(compgen -W "$(_diskferry_subcommands "$3")" -- "$2")) ;;
            *) COMPREPLY=() ;;
          esac
        }

        """);

    b.append("# Completes the value of option $2 of command $1.\n_diskferry_option_value() {\n");
    b.append("  case \"$1:$2\" in\n");
    for (CommandSpec c : tree) {
      for (OptionSpec o : CommandModel.options(c)) {
        if (!CommandModel.takesValue(o)) {
          continue;
        }
        String action = bashAction(c, o, CommandModel.id(c));
        if (action != null) {
          String pattern =
              List.of(o.names()).stream()
                  .map(n -> CommandModel.id(c) + ":" + n)
                  .collect(Collectors.joining(" | "));
          b.append("    ").append(pattern).append(") ").append(action).append(" ;;\n");
        }
      }
    }
    b.append("    *) COMPREPLY=() ;;\n  esac\n}\n\n");

    b.append(
        "# Completes positional parameter $2 (0 = the first) of command $1.\n"
            + "_diskferry_positional() {\n  case \"$1:$2\" in\n");
    for (CommandSpec c : tree) {
      for (PositionalParamSpec p : CommandModel.positionals(c)) {
        String action = bashAction(c, p, CommandModel.id(c));
        if (action == null) {
          continue;
        }
        int min = p.index().min();
        String pattern;
        if (p.index().isUnspecified() || p.index().max() == Integer.MAX_VALUE) {
          pattern = CommandModel.id(c) + ":*";
        } else {
          List<String> ps = new ArrayList<>();
          for (int i = min; i <= p.index().max(); i++) {
            ps.add(CommandModel.id(c) + ":" + i);
          }
          pattern = String.join(" | ", ps);
        }
        b.append("    ").append(pattern).append(") ").append(action).append(" ;;\n");
      }
    }
    b.append("    *) return 1 ;;\n  esac\n}\n\n");

    b.append(
        """
        _diskferry() {
          local cur=${COMP_WORDS[COMP_CWORD]} cmd=diskferry config= expect= w i pos=0 subs
          COMPREPLY=()
          # Walk the words before the cursor: find the (sub)command, count its positional
          # parameters, and note an option that still waits for its value. bash splits
          # --opt=value into --opt, = and value.
          for ((i = 1; i < COMP_CWORD; i++)); do
            w=${COMP_WORDS[i]}
            [[ $w == = ]] && continue
            if [[ -n $expect ]]; then
              [[ $expect == --config ]] && config=$w
              expect=
              continue
            fi
            case $w in
              -*) _diskferry_takes_value "$cmd" "$w" && expect=$w; continue ;;
            esac
            subs=" $(_diskferry_subcommands "$cmd") "
            if [[ $pos == 0 && $subs == *" $w "* ]]; then
              cmd=${cmd}_$w
            else
              pos=$((pos + 1))
            fi
          done
          [[ $cur == = ]] && cur=
          if [[ -n $expect ]]; then
            _diskferry_option_value "$cmd" "$expect" "$cur" "$config"
            return 0
          fi
          if [[ $cur == -* ]]; then
            COMPREPLY=($(compgen -W "$(_diskferry_options "$cmd")" -- "$cur"))
            return 0
          fi
          subs=$(_diskferry_subcommands "$cmd")
          if [[ -n $subs ]]; then
            COMPREPLY=($(compgen -W "$subs" -- "$cur"))
          elif ! _diskferry_positional "$cmd" "$pos" "$cur"; then
            COMPREPLY=($(compgen -W "$(_diskferry_options "$cmd")" -- "$cur"))
          fi
          return 0
        }

        complete -F _diskferry diskferry
        """);
    return b.toString();
  }

  /** The bash code that fills COMPREPLY for an argument ($3 is the word, $4 --config). */
  private static String bashAction(CommandSpec owner, ArgSpec arg, String id) {
    ValueKind kind = CommandModel.kind(owner, arg);
    return switch (kind) {
      case NONE -> null;
      case WORDS -> "_diskferry_values WORDS \"$3\" " + words(CommandModel.candidates(arg));
      case COMMANDS -> "_diskferry_values COMMANDS \"$3\" " + id.substring(0, id.lastIndexOf('_'));
      case PROFILE -> "_diskferry_values PROFILE \"$3\" \"$4\"";
      case CLOUD -> "_diskferry_values CLOUD \"$3\"";
      default -> "_diskferry_values " + kind + " \"$3\"";
    };
  }

  // ---------------------------------------------------------------- zsh

  static String zsh(CommandSpec root) {
    List<CommandSpec> tree = CommandModel.tree(root);
    StringBuilder b = new StringBuilder();
    b.append("#compdef diskferry\n");
    b.append(header("zsh"));
    b.append(
        """

        # The profiles: sections of the config file given with --config, else of diskferry's and
        # ovirt-img's config files.
        _diskferry_profile_names() {
          local config=$1 home=${XDG_CONFIG_HOME:-}
          [[ $home == /* ]] || home=${HOME:+$HOME/.config}
          local -a files
          if [[ -n $config ]]; then
            files=(${~config})
          elif [[ -n $home ]]; then
            files=($home/diskferry/config $home/ovirt-img.conf)
          fi
          (( $#files )) || return 0
          sed -n %s $files 2>/dev/null
        }

        _diskferry_profiles() {
          local -a profiles
          profiles=(${(f)"$(_diskferry_profile_names ${opt_args[--config]})"})
          _wanted profiles expl profile compadd -a profiles
        }

        # The clouds: envvars (the OS_* variables) and those of the first clouds.yaml found where
        # openstacksdk looks.
        _diskferry_clouds() {
          local f
          local -a clouds
          clouds=(envvars)
          for f in ${OS_CLIENT_CONFIG_FILE:-} clouds.yaml clouds.yml \\
            ${HOME:-}/.config/openstack/clouds.{yaml,yml} /etc/openstack/clouds.{yaml,yml}; do
            if [[ -f $f ]]; then
              clouds+=(${(f)"$(awk %s $f 2>/dev/null)"})
              break
            fi
          done
          _wanted clouds expl cloud compadd -a clouds
        }

        """
            .formatted(SECTIONS_SED, CLOUDS_AWK));
    for (CommandSpec c : tree) {
      zshFunction(b, c);
    }
    b.append("_diskferry \"$@\"\n");
    return b.toString();
  }

  private static void zshFunction(StringBuilder b, CommandSpec c) {
    String id = CommandModel.id(c);
    List<CommandSpec> subs = CommandModel.subcommands(c);
    b.append("_").append(id).append("() {\n");
    if (!subs.isEmpty()) {
      b.append("  local curcontext=$curcontext state line ret=1\n");
      b.append("  typeset -A opt_args\n");
      b.append("  _arguments -C -s -S \\\n");
    } else {
      b.append("  _arguments -s -S \\\n");
    }
    for (OptionSpec o : CommandModel.options(c)) {
      b.append("    ").append(zshOption(c, o)).append(" \\\n");
    }
    if (!subs.isEmpty()) {
      b.append("    ").append(quote("1:command:->command")).append(" \\\n");
      b.append("    ").append(quote("*::argument:->argument")).append(" && ret=0\n");
      b.append("  case $state in\n    command)\n      local -a commands\n      commands=(\n");
      for (CommandSpec s : subs) {
        b.append("        ")
            .append(quote(s.name() + ":" + CommandModel.summary(s)))
            .append("\n");
      }
      b.append("      )\n      _describe -t commands command commands && ret=0\n      ;;\n");
      b.append("    argument)\n      curcontext=${curcontext%:*:*}:").append(id);
      b.append("-$line[1]:\n      case $line[1] in\n");
      for (CommandSpec s : subs) {
        b.append("        ").append(s.name()).append(") _").append(CommandModel.id(s));
        b.append(" && ret=0 ;;\n");
      }
      b.append("      esac\n      ;;\n  esac\n  return ret\n}\n\n");
      return;
    }
    List<PositionalParamSpec> ps = CommandModel.positionals(c);
    for (PositionalParamSpec p : ps) {
      String action = zshAction(c, p);
      String label = p.paramLabel();
      boolean rest = p.index().isUnspecified() || p.index().max() == Integer.MAX_VALUE;
      if (rest) {
        b.append("    ").append(quote("*:" + label + ":" + action)).append(" \\\n");
      } else {
        for (int i = p.index().min(); i <= p.index().max(); i++) {
          String optional = i >= p.index().min() + p.arity().min() ? ":" : "";
          b.append("    ")
              .append(quote((i + 1) + ":" + optional + label + ":" + action))
              .append(" \\\n");
        }
      }
    }
    // Drop the last line continuation.
    b.setLength(b.length() - 3);
    b.append("\n}\n\n");
  }

  /** One _arguments spec for an option, e.g. {@code '(-c --profile)'{-c,--profile}'[…]:…'}. */
  private static String zshOption(CommandSpec owner, OptionSpec o) {
    String[] names = o.names();
    String desc = zshEscape(CommandModel.summary(o.description()));
    String value = "";
    if (CommandModel.takesValue(o)) {
      value = ":" + zshEscape(o.paramLabel()) + ":" + zshAction(owner, o);
    }
    boolean repeat = CommandModel.repeatable(o) && !CommandModel.takesValue(o);
    StringBuilder s = new StringBuilder();
    if (repeat) {
      s.append("'*'");
    } else if (names.length > 1) {
      s.append(quote("(" + String.join(" ", names) + ")"));
    }
    if (names.length > 1) {
      s.append("{").append(String.join(",", names)).append("}");
      s.append(quote("[" + desc + "]" + value));
    } else {
      String n = names[0];
      String eq = CommandModel.takesValue(o) && n.startsWith("--") ? "=" : "";
      s.append(quote(n + eq + "[" + desc + "]" + value));
    }
    return s.toString();
  }

  private static String zshAction(CommandSpec owner, ArgSpec arg) {
    return switch (CommandModel.kind(owner, arg)) {
      case NONE -> " ";
      case FILE -> "_files";
      case DIRECTORY -> "_files -/";
      case PROFILE -> "_diskferry_profiles";
      case CLOUD -> "_diskferry_clouds";
      case WORDS -> "(" + String.join(" ", CommandModel.candidates(arg)) + ")";
      case COMMANDS ->
          "("
              + CommandModel.subcommands(owner.parent()).stream()
                  .map(CommandSpec::name)
                  .collect(Collectors.joining(" "))
              + ")";
    };
  }

  /** Characters that end or split an _arguments description or message. */
  private static String zshEscape(String s) {
    return s.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]").replace(":", "\\:");
  }
}
