package org.diskferry.config;

import java.io.Console;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Optional;
import org.diskferry.error.DiskferryException;

/**
 * Finds the engine password, in the order of SPEC.md: the first line of {@code --password-file};
 * else {@code DISKFERRY_PASSWORD}; else the profile's {@code password}; else a prompt without echo
 * when there is a console; else an error. The password never appears in a message.
 */
public final class PasswordSource {

  /** Reads a password without echo, e.g. from {@link Console#readPassword}. */
  @FunctionalInterface
  public interface Prompt {
    /** The password typed, or null at end of input. */
    char[] readPassword(String prompt);
  }

  private PasswordSource() {}

  /**
   * @param passwordFile {@code --password-file}, or null
   * @param console {@code System.console()}: null when there is no terminal, and then no prompt
   * @param username shown in the prompt ({@code Password for USER: })
   * @return the password; the caller may clear the array after use
   * @throws DiskferryException BAD_INPUT when the file is missing, unreadable or empty, or when
   *     there is no password anywhere and no console
   */
  public static char[] resolve(Path passwordFile, Settings s, Console console, String username) {
    Prompt prompt = console == null ? null : p -> console.readPassword("%s", p);
    return resolve(passwordFile, s, prompt, username);
  }

  /** As {@link #resolve(Path, Settings, Console, String)}, with any prompt (null = none). */
  public static char[] resolve(Path passwordFile, Settings s, Prompt prompt, String username) {
    if (passwordFile != null) {
      return firstLine(passwordFile);
    }
    Optional<String> configured = s == null ? Optional.empty() : s.get("password");
    if (configured.isPresent()) {
      return configured.get().toCharArray();
    }
    if (prompt != null) {
      String text =
          username == null || username.isBlank() ? "Password: " : "Password for " + username + ": ";
      char[] typed = prompt.readPassword(text);
      if (typed == null || typed.length == 0) {
        if (typed != null) {
          Arrays.fill(typed, '\0');
        }
        throw DiskferryException.badInput("no password entered");
      }
      return typed;
    }
    throw DiskferryException.badInput(
        "no password: use --password-file, DISKFERRY_PASSWORD or a profile");
  }

  /** The first line of the file, without its line end; never the content in an error. */
  static char[] firstLine(Path file) {
    byte[] bytes;
    try {
      if (Files.isDirectory(file)) {
        throw DiskferryException.badInput("password file " + file + " is a directory");
      }
      bytes = Files.readAllBytes(file);
    } catch (NoSuchFileException e) {
      throw DiskferryException.badInput("password file " + file + " does not exist");
    } catch (IOException e) {
      throw DiskferryException.badInput(
          "cannot read password file " + file + " (" + e.getClass().getSimpleName() + ")");
    }
    CharBuffer chars;
    try {
      chars =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(bytes));
    } catch (CharacterCodingException e) {
      throw DiskferryException.badInput("password file " + file + " is not valid UTF-8");
    } finally {
      Arrays.fill(bytes, (byte) 0);
    }
    int start = chars.position();
    int end = start;
    while (end < chars.limit() && chars.get(end) != '\n' && chars.get(end) != '\r') {
      end++;
    }
    // Skip a UTF-8 byte order mark, as editors on some systems write one.
    if (end > start && chars.get(start) == '\uFEFF') {
      start++;
    }
    char[] password = new char[end - start];
    for (int i = start; i < end; i++) {
      password[i - start] = chars.get(i);
    }
    if (chars.hasArray()) {
      Arrays.fill(chars.array(), '\0');
    }
    if (password.length == 0) {
      throw DiskferryException.badInput("password file " + file + " is empty on its first line");
    }
    return password;
  }
}
