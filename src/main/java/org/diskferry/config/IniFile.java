package org.diskferry.config;

import java.io.IOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import org.diskferry.error.DiskferryException;

/**
 * An INI file read the way Python's configparser reads it with interpolation off (as ovirt-img
 * does): {@code [section]} headers; {@code key = value} or {@code key: value}, split at the first
 * {@code =} or {@code :}; whole-line comments starting with {@code #} or {@code ;} (no inline
 * comments, so a password may hold {@code #}); indented lines continue the previous value; keys are
 * case-insensitive. diskferry also normalises {@code -} in keys to {@code _}. Values in a {@code
 * [DEFAULT]} section apply to every section of the same file. Section names are case-sensitive. A
 * later duplicate key wins.
 */
final class IniFile {

  static final String DEFAULT_SECTION = "DEFAULT";

  private final Path path;
  private final Map<String, Map<String, String>> sections;

  private IniFile(Path path, Map<String, Map<String, String>> sections) {
    this.path = path;
    this.sections = sections;
  }

  Path path() {
    return path;
  }

  boolean hasSection(String name) {
    return sections.containsKey(name);
  }

  /** The section with the file's {@code [DEFAULT]} values under it, or null if there is none. */
  Map<String, String> section(String name) {
    Map<String, String> own = sections.get(name);
    if (own == null) {
      return null;
    }
    Map<String, String> merged =
        new LinkedHashMap<>(sections.getOrDefault(DEFAULT_SECTION, Map.of()));
    merged.putAll(own);
    return Collections.unmodifiableMap(merged);
  }

  /** Whether any section holds a password. */
  boolean holdsPassword() {
    return sections.values().stream().anyMatch(s -> s.containsKey("password"));
  }

  static String normaliseKey(String key) {
    return key.strip().toLowerCase(Locale.ROOT).replace('-', '_');
  }

  /** Reads and parses a file; any problem is BAD_INPUT naming the file (never its content). */
  static IniFile read(Path path) {
    String text;
    try {
      byte[] bytes = Files.readAllBytes(path);
      text =
          StandardCharsets.UTF_8
              .newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(java.nio.ByteBuffer.wrap(bytes))
              .toString();
    } catch (CharacterCodingException e) {
      throw DiskferryException.badInput("config file " + path + " is not valid UTF-8");
    } catch (IOException e) {
      throw DiskferryException.badInput(
          "cannot read config file " + path + " (" + e.getClass().getSimpleName() + ")");
    }
    return parse(path, text);
  }

  static IniFile parse(Path path, String text) {
    if (text.startsWith("\uFEFF")) {
      text = text.substring(1);
    }
    Map<String, Map<String, String>> sections = new LinkedHashMap<>();
    Map<String, String> current = null;
    String lastKey = null;
    String[] lines = text.split("\r\n|\r|\n", -1);
    for (int i = 0; i < lines.length; i++) {
      String raw = lines[i];
      String line = raw.strip();
      if (line.isEmpty()) {
        lastKey = null;
        continue;
      }
      if (line.startsWith("#") || line.startsWith(";")) {
        continue;
      }
      boolean indented = Character.isWhitespace(raw.charAt(0));
      if (indented && lastKey != null) {
        current.put(lastKey, current.get(lastKey) + "\n" + line);
        continue;
      }
      if (line.startsWith("[") && line.endsWith("]") && line.length() > 2) {
        String name = line.substring(1, line.length() - 1);
        current = sections.computeIfAbsent(name, n -> new LinkedHashMap<>());
        lastKey = null;
        continue;
      }
      int eq = line.indexOf('=');
      int colon = line.indexOf(':');
      int at = eq < 0 ? colon : colon < 0 ? eq : Math.min(eq, colon);
      if (at <= 0) {
        throw DiskferryException.badInput(
            "config file " + path + " line " + (i + 1) + ": expected [section] or key = value");
      }
      if (current == null) {
        throw DiskferryException.badInput(
            "config file " + path + " line " + (i + 1) + ": a key before the first [section]");
      }
      String key = normaliseKey(line.substring(0, at));
      current.put(key, line.substring(at + 1).strip());
      lastKey = key;
    }
    return new IniFile(path, sections);
  }
}
