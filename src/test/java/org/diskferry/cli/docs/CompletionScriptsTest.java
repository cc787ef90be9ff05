package org.diskferry.cli.docs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The completion scripts in {@code completions/} are what the generator makes from the current
 * commands, parse in their shells, and offer the right words when bash and zsh run them.
 */
class CompletionScriptsTest {

  static final Path BASH = Path.of("completions", "diskferry");
  static final Path ZSH = Path.of("completions", "_diskferry");

  @TempDir Path tmp;
  Path home;

  @BeforeEach
  void profiles() throws IOException {
    home = Files.createDirectories(tmp.resolve("home"));
    Path config = Files.createDirectories(home.resolve(".config/diskferry")).resolve("config");
    Files.writeString(config, "[DEFAULT]\nusername = admin@internal\n[prod]\n[lab-2]\n");
    Files.writeString(home.resolve(".config/ovirt-img.conf"), "[engine1]\nengine_url = x\n");
    Files.writeString(tmp.resolve("other.conf"), "  [elsewhere]  \nkey = v\n");
    Files.writeString(
        tmp.resolve("clouds.yaml"),
        "# clouds\nclouds:\n  devstack:\n    auth:\n      auth_url: https://k\n"
            + "  \"prod-cloud\":\n    region_name: r1\nother: 1\n");
    Files.createDirectories(tmp.resolve("images"));
    Files.writeString(tmp.resolve("images/fedora.raw"), "x");
    Files.writeString(tmp.resolve("images/fedora.qcow2"), "x");
    Files.createDirectories(tmp.resolve("images/old"));
  }

  @Test
  void checkedInScriptsAreTheGeneratedOnes() throws IOException {
    var root = CommandModel.root();
    assertUpToDate(BASH, CompletionScripts.bash(root));
    assertUpToDate(ZSH, CompletionScripts.zsh(root));
  }

  static void assertUpToDate(Path checkedIn, String generated) throws IOException {
    String refresh =
        checkedIn
            + " is out of date with the commands and options. Regenerate with: "
            + CompletionScripts.REGENERATE;
    assertThat(checkedIn).as(refresh).exists();
    String current = Files.readString(checkedIn, StandardCharsets.UTF_8);
    if (!current.equals(generated)) {
      fail(refresh + "\n" + firstDifference(current, generated));
    }
  }

  /** Where the two texts first differ, by line, so the failure stays short. */
  static String firstDifference(String checkedIn, String generated) {
    List<String> a = checkedIn.lines().toList();
    List<String> b = generated.lines().toList();
    int n = Math.min(a.size(), b.size());
    for (int i = 0; i < n; i++) {
      if (!a.get(i).equals(b.get(i))) {
        return "first difference at line " + (i + 1) + ":\n  checked in: " + a.get(i)
            + "\n  generated:  " + b.get(i);
      }
    }
    return a.size() == b.size()
        ? "the texts differ in line endings or a final newline"
        : "checked in has " + a.size() + " lines, generated has " + b.size();
  }

  @Test
  void scriptsParse() throws Exception {
    assertThat(run(List.of("bash", "-n", BASH.toString()), Map.of()).code).isZero();
    Shells.requireOrSkip("zsh");
    assertThat(run(List.of("zsh", "-n", ZSH.toString()), Map.of()).code).isZero();
  }

  // ---------------------------------------------------------------- bash

  /** What bash's completion function offers for the words (the last one is being completed). */
  private List<String> bash(String... words) throws Exception {
    StringBuilder script = new StringBuilder("source ").append(BASH.toAbsolutePath()).append('\n');
    script.append("cd ").append(Shells.quote(tmp.toString())).append('\n');
    script.append("COMP_WORDS=(");
    for (String w : words) {
      script.append(Shells.quote(w)).append(' ');
    }
    script.append(")\nCOMP_CWORD=").append(words.length - 1).append('\n');
    script.append("_diskferry\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n");
    Result r = run(List.of("bash", "--norc", "-c", script.toString()), Map.of("HOME", home.toString()));
    assertThat(r.code).as(r.out).isZero();
    return r.out.lines().filter(l -> !l.isEmpty()).toList();
  }

  @Test
  void bashCompletesCommandsAndOptions() throws Exception {
    assertThat(bash("diskferry", ""))
        .contains("upload", "download", "status", "cancel", "resume", "list", "config", "sandbox")
        .doesNotContain("--help");
    assertThat(bash("diskferry", "d")).containsExactly("download");
    assertThat(bash("diskferry", "-q", "--profile", "prod", "con")).containsExactly("config");
    assertThat(bash("diskferry", "config", "")).containsExactly("show");
    assertThat(bash("diskferry", "help", "up")).containsExactly("upload");
    assertThat(bash("diskferry", "upload", "--st")).containsExactly("--storage-domain");
    assertThat(bash("diskferry", "upload", "--pre")).containsExactly("--preallocated");
    // Global options are inherited by every subcommand; hidden ones are never offered.
    assertThat(bash("diskferry", "download", "--")).contains("--engine-url", "--force", "--verify")
        .doesNotContain("--range-size", "--heartbeat", "--retry-delay");
  }

  @Test
  void bashCompletesProfilesFromBothConfigFiles() throws Exception {
    assertThat(bash("diskferry", "-c", "")).containsExactlyInAnyOrder("prod", "lab-2", "engine1");
    assertThat(bash("diskferry", "upload", "--profile", "p")).containsExactly("prod");
    assertThat(bash("diskferry", "--profile", "=", "la")).containsExactly("lab-2");
    assertThat(bash("diskferry", "--config", tmp.resolve("other.conf").toString(), "-c", ""))
        .containsExactly("elsewhere");
  }

  @Test
  void bashCompletesCloudsFromCloudsYaml() throws Exception {
    assertThat(bash("diskferry", "--cloud", ""))
        .containsExactlyInAnyOrder("envvars", "devstack", "prod-cloud");
    assertThat(bash("diskferry", "list", "--cloud", "d")).containsExactly("devstack");
  }

  @Test
  void bashCompletesValuesAndFiles() throws Exception {
    assertThat(bash("diskferry", "upload", "-f", "")).containsExactly("raw", "qcow2");
    assertThat(bash("diskferry", "download", "--format", "q")).containsExactly("qcow2");
    assertThat(bash("diskferry", "-o", "j")).containsExactly("json");
    assertThat(bash("diskferry", "upload", "--timeout-policy", "")).contains("pause");
    assertThat(bash("diskferry", "upload", "images/fedora."))
        .containsExactlyInAnyOrder("images/fedora.raw", "images/fedora.qcow2");
    // download DISK FILE: the disk is not a file, the target is.
    assertThat(bash("diskferry", "download", "images/f")).isEmpty();
    assertThat(bash("diskferry", "download", "disk-1", "images/f")).hasSize(2);
    assertThat(bash("diskferry", "--cafile", "images/o")).containsExactly("images/old");
    assertThat(bash("diskferry", "sandbox", "--data-dir", "images/")).containsExactly("images/old");
  }

  // ---------------------------------------------------------------- zsh

  /** What zsh's completion system offers for a command line ending where TAB is pressed. */
  private Set<String> zsh(String line) throws Exception {
    Path script = Path.of("src/test/resources/org/diskferry/cli/docs/zsh-complete.zsh").toAbsolutePath();
    Result r =
        run(
            List.of("timeout", "20", "zsh", "-f", script.toString(), ZSH.toAbsolutePath().getParent().toString(), line),
            Map.of("HOME", home.toString()),
            tmp);
    Set<String> offered = new LinkedHashSet<>();
    boolean in = false;
    for (String l : r.out.replace("\r", "").split("\n")) {
      if (l.endsWith("<<<")) {
        in = true;
      } else if (l.equals(">>>")) {
        in = false;
      } else if (in && !l.isEmpty()) {
        offered.add(l);
      }
    }
    return offered;
  }

  @Test
  void zshCompletesCommandsProfilesValuesAndFiles() throws Exception {
    Shells.requireOrSkip("zsh");
    assertThat(zsh("diskferry ")).contains("upload", "download", "config", "sandbox");
    assertThat(zsh("diskferry -c ")).containsExactlyInAnyOrder("prod", "lab-2", "engine1");
    assertThat(zsh("diskferry config ")).contains("show");
    assertThat(zsh("diskferry upload -f ")).containsExactlyInAnyOrder("raw", "qcow2");
    assertThat(zsh("diskferry list --cloud ")).contains("envvars", "devstack", "prod-cloud")
        .doesNotContain("auth", "region_name");
    assertThat(zsh("diskferry upload --stor")).contains("--storage-domain");
    assertThat(zsh("diskferry upload images/fedora.")).contains("fedora.raw", "fedora.qcow2");
  }

  // ---------------------------------------------------------------- processes

  record Result(int code, String out) {}

  static Result run(List<String> command, Map<String, String> env) throws Exception {
    return run(command, env, null);
  }

  static Result run(List<String> command, Map<String, String> env, Path dir) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(new ArrayList<>(command)).redirectErrorStream(true);
    pb.environment().putAll(env);
    pb.environment().remove("XDG_CONFIG_HOME");
    pb.environment().remove("OS_CLIENT_CONFIG_FILE");
    if (dir != null) {
      pb.directory(dir.toFile());
    }
    Process p = pb.start();
    p.getOutputStream().close();
    byte[] out = p.getInputStream().readAllBytes();
    if (!p.waitFor(30, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      fail("timed out: " + command);
    }
    return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8));
  }
}
