package org.diskferry.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.Console;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.diskferry.error.DiskferryException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PasswordSourceTest {

  @TempDir Path home;

  private Settings settings(Map<String, String> extraEnv, String profileText) throws IOException {
    Map<String, String> env = new HashMap<>(extraEnv);
    env.put("HOME", home.toString());
    if (profileText != null) {
      Path file = home.resolve(".config/diskferry/config");
      Files.createDirectories(file.getParent());
      Files.writeString(file, profileText);
    }
    return Settings.load(env, null, null, w -> {});
  }

  @Test
  void passwordFileFirstLineWins() throws IOException {
    Path file = home.resolve("pw");
    Files.writeString(file, "first line with spaces \r\nsecond\n");
    Settings s = settings(Map.of("DISKFERRY_PASSWORD", "from-env"), "[default]\npassword = p\n");

    assertThat(PasswordSource.resolve(file, s, (Console) null, "admin"))
        .containsExactly("first line with spaces ".toCharArray());
  }

  @Test
  void passwordFileWithoutNewlineAndWithBom() throws IOException {
    Path file = home.resolve("pw");
    Files.write(file, "\uFEFFsecr€t".getBytes(StandardCharsets.UTF_8));

    assertThat(PasswordSource.resolve(file, settings(Map.of(), null), (Console) null, "admin"))
        .containsExactly("secr€t".toCharArray());
  }

  @Test
  void missingPasswordFileIsBadInput() throws IOException {
    Path file = home.resolve("missing");
    Settings s = settings(Map.of("DISKFERRY_PASSWORD", "from-env"), null);

    assertThatThrownBy(() -> PasswordSource.resolve(file, s, (Console) null, "admin"))
        .isInstanceOfSatisfying(
            DiskferryException.class,
            e -> assertThat(e.kind()).isEqualTo(DiskferryException.Kind.BAD_INPUT))
        .hasMessage("password file " + file + " does not exist");
  }

  @Test
  void emptyPasswordFileIsBadInput() throws IOException {
    Path file = home.resolve("pw");
    Files.writeString(file, "\nsecond line is not used\n");

    assertThatThrownBy(
            () -> PasswordSource.resolve(file, settings(Map.of(), null), (Console) null, "a"))
        .isInstanceOf(DiskferryException.class)
        .hasMessageContaining(file.toString())
        .hasMessageNotContaining("second");
  }

  @Test
  void envThenProfile() throws IOException {
    Settings both = settings(Map.of("DISKFERRY_PASSWORD", "from-env"), "[default]\npassword = p\n");
    assertThat(PasswordSource.resolve(null, both, (Console) null, "a"))
        .containsExactly("from-env".toCharArray());

    Settings profileOnly = settings(Map.of(), "[default]\npassword = from-profile\n");
    assertThat(PasswordSource.resolve(null, profileOnly, (Console) null, "a"))
        .containsExactly("from-profile".toCharArray());
  }

  @Test
  void promptsWhenThereIsAConsole() throws IOException {
    AtomicReference<String> asked = new AtomicReference<>();
    PasswordSource.Prompt prompt =
        p -> {
          asked.set(p);
          return "typed".toCharArray();
        };

    char[] password =
        PasswordSource.resolve(null, settings(Map.of(), null), prompt, "admin@internal");

    assertThat(password).containsExactly("typed".toCharArray());
    assertThat(asked.get()).isEqualTo("Password for admin@internal: ");
  }

  @Test
  void endOfInputAtThePromptIsBadInput() throws IOException {
    assertThatThrownBy(
            () -> PasswordSource.resolve(null, settings(Map.of(), null), p -> null, "admin"))
        .isInstanceOf(DiskferryException.class)
        .hasMessage("no password entered");
  }

  @Test
  void noConsoleIsAnError() throws IOException {
    assertThatThrownBy(
            () -> PasswordSource.resolve(null, settings(Map.of(), null), (Console) null, "admin"))
        .isInstanceOfSatisfying(
            DiskferryException.class,
            e -> assertThat(e.kind()).isEqualTo(DiskferryException.Kind.BAD_INPUT))
        .hasMessage("no password: use --password-file, DISKFERRY_PASSWORD or a profile");
  }
}
