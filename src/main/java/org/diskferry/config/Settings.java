package org.diskferry.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.diskferry.error.DiskferryException;

/**
 * Where settings come from, resolved once per command run: {@code DISKFERRY_<KEY>} environment
 * variables first, then the selected profile. Command-line options win over both; the caller
 * applies them.
 *
 * <p>Files: {@code $XDG_CONFIG_HOME/diskferry/config} and ovirt-img's {@code
 * $XDG_CONFIG_HOME/ovirt-img.conf} ({@code $XDG_CONFIG_HOME} defaults to {@code $HOME/.config};
 * with neither variable set there are no default files). {@code --config FILE} replaces both.
 *
 * <p>Profile: with {@code -c NAME}, the section NAME of the diskferry file, else of ovirt-img.conf;
 * without it, the diskferry file's {@code [default]} section (or configparser's {@code [DEFAULT]})
 * if there is one. ovirt-img.conf is only read when a named profile is not in the diskferry file.
 *
 * <p>Keys are snake_case ({@code engine_url}, {@code username}, {@code password}, {@code cafile},
 * {@code insecure}, {@code storage_domain}, {@code workers}, ...). ovirt-img's {@code secure = no}
 * is read as {@code insecure = true}. An empty environment variable counts as unset.
 *
 * <p>Values are raw: print them only through {@link #mask} or {@link #maskedValues()}.
 */
public final class Settings {

  /** The environment variable prefix. */
  public static final String ENV_PREFIX = "DISKFERRY_";

  /** Keys shown first by {@link #values()}, in this order. */
  static final List<String> KNOWN_KEYS =
      List.of(
          "engine_url",
          "username",
          "password",
          "cafile",
          "insecure",
          "secure",
          "storage_domain",
          "workers",
          "buffer_size",
          "log_file",
          "description",
          "cloud");

  private static final String MASK = "********";
  private static final Pattern URL_USERINFO_PASSWORD =
      Pattern.compile("(?i)^([a-z][a-z0-9+.-]*://[^/@:\\s]*):[^/@\\s]*@");

  private final Map<String, String> env;
  private final String profileName;
  private final Path profileFile;
  private final Map<String, String> profile;

  private Settings(
      Map<String, String> env, String profileName, Path profileFile, Map<String, String> profile) {
    this.env = env;
    this.profileName = profileName;
    this.profileFile = profileFile;
    this.profile = profile;
  }

  /**
   * @param env the environment (System.getenv() in production; a map in tests)
   * @param configFile --config FILE, or null for the default locations
   * @param profile -c/--profile NAME, or null
   * @param warn receives warnings (e.g. a group/world-readable file holding a password)
   * @throws DiskferryException BAD_INPUT for a missing --config file, an unreadable or malformed
   *     file, an unknown profile, or a {@code secure} value that is not a boolean
   */
  public static Settings load(
      Map<String, String> env, Path configFile, String profile, Consumer<String> warn) {
    Objects.requireNonNull(env, "env");
    Objects.requireNonNull(warn, "warn");
    Map<String, String> ours = new TreeMap<>();
    env.forEach(
        (k, v) -> {
          if (k != null && k.startsWith(ENV_PREFIX) && v != null && !v.isEmpty()) {
            ours.put(k, v);
          }
        });

    List<Path> candidates = new ArrayList<>();
    if (configFile != null) {
      if (!Files.exists(configFile)) {
        throw DiskferryException.badInput("config file " + configFile + " does not exist");
      }
      if (!Files.isRegularFile(configFile)) {
        throw DiskferryException.badInput("config file " + configFile + " is not a regular file");
      }
      candidates.add(configFile);
    } else {
      Path configHome = configHome(env);
      if (configHome != null) {
        candidates.add(configHome.resolve("diskferry").resolve("config"));
        candidates.add(configHome.resolve("ovirt-img.conf"));
      }
    }

    String name = null;
    IniFile from = null;
    Set<Path> warned = new LinkedHashSet<>();
    if (profile != null) {
      if (profile.isBlank()) {
        throw DiskferryException.badInput("the profile name is empty");
      }
      for (Path candidate : candidates) {
        if (!Files.exists(candidate)) {
          continue;
        }
        IniFile ini = IniFile.read(candidate);
        checkPermissions(ini, warn, warned);
        if (ini.hasSection(profile)) {
          name = profile;
          from = ini;
          break;
        }
      }
      if (from == null) {
        throw DiskferryException.badInput(unknownProfile(profile, candidates));
      }
    } else if (!candidates.isEmpty() && Files.exists(candidates.get(0))) {
      IniFile ini = IniFile.read(candidates.get(0));
      checkPermissions(ini, warn, warned);
      for (String section : List.of("default", IniFile.DEFAULT_SECTION)) {
        if (ini.hasSection(section)) {
          name = section;
          from = ini;
          break;
        }
      }
    }

    Map<String, String> values = from == null ? Map.of() : from.section(name);
    if (values.containsKey("secure")) {
      parseBoolean(values.get("secure"), "secure in " + describe(name, from.path()));
    }
    return new Settings(
        Collections.unmodifiableMap(ours), name, from == null ? null : from.path(), values);
  }

  private static String unknownProfile(String profile, List<Path> candidates) {
    if (candidates.isEmpty()) {
      return "no profile '"
          + profile
          + "': no config file to look in (set HOME or XDG_CONFIG_HOME, or use --config FILE)";
    }
    String files = candidates.stream().map(Path::toString).collect(Collectors.joining(", "));
    String missing = "";
    if (candidates.stream().noneMatch(Files::exists)) {
      missing = candidates.size() == 1 ? " (the file does not exist)" : " (none of them exists)";
    }
    return "no profile '" + profile + "' in " + files + missing;
  }

  /** {@code $XDG_CONFIG_HOME} if set and absolute, else {@code $HOME/.config}, else null. */
  static Path configHome(Map<String, String> env) {
    String xdg = env.get("XDG_CONFIG_HOME");
    if (xdg != null && !xdg.isEmpty()) {
      Path p = Path.of(xdg);
      if (p.isAbsolute()) {
        return p;
      }
    }
    String home = env.get("HOME");
    if (home != null && !home.isEmpty()) {
      return Path.of(home).resolve(".config");
    }
    return null;
  }

  private static void checkPermissions(IniFile ini, Consumer<String> warn, Set<Path> warned) {
    if (!ini.holdsPassword() || !warned.add(ini.path())) {
      return;
    }
    SecretFiles.warnIfShared(ini.path(), "a password", warn);
  }

  /** The value for a setting key, from {@code DISKFERRY_<KEY>} first, then the profile. */
  public Optional<String> get(String key) {
    String k = IniFile.normaliseKey(key);
    String fromEnv = env.get(envName(k));
    if (fromEnv != null) {
      return Optional.of(fromEnv);
    }
    if (k.equals("insecure")) {
      Optional<Boolean> derived = insecureFromSecure();
      if (derived.isPresent()) {
        return Optional.of(derived.get().toString());
      }
    }
    return Optional.ofNullable(profile.get(k));
  }

  /**
   * A boolean setting: 1/yes/true/on or 0/no/false/off, case-insensitive.
   *
   * @throws DiskferryException BAD_INPUT naming the key and its source for any other value
   */
  public Optional<Boolean> getBoolean(String key) {
    String k = IniFile.normaliseKey(key);
    return get(k).map(v -> parseBoolean(mask(k, v), k + " from " + sourceOf(k)));
  }

  /** Where get(key) came from: "env DISKFERRY_ENGINE_URL", "profile prod in FILE", or "default". */
  public String sourceOf(String key) {
    String k = IniFile.normaliseKey(key);
    String name = envName(k);
    if (env.containsKey(name)) {
      return "env " + name;
    }
    if (k.equals("insecure") && insecureFromSecure().isPresent()) {
      return env.containsKey(envName("secure"))
          ? "env " + envName("secure")
          : describe(profileName, profileFile) + " (from secure)";
    }
    if (profile.containsKey(k)) {
      return describe(profileName, profileFile);
    }
    return "default";
  }

  /**
   * All keys known with a value, for {@code config show}: the common keys first in a fixed order,
   * then the profile's other keys alphabetically. Values are raw; see {@link #maskedValues()}.
   */
  public Map<String, String> values() {
    Set<String> keys = new LinkedHashSet<>(KNOWN_KEYS);
    keys.addAll(new TreeMap<>(profile).keySet());
    Map<String, String> result = new LinkedHashMap<>();
    for (String key : keys) {
      get(key).ifPresent(v -> result.put(key, v));
    }
    return Collections.unmodifiableMap(result);
  }

  /** {@link #values()} with secrets masked, safe to print. */
  public Map<String, String> maskedValues() {
    Map<String, String> result = new LinkedHashMap<>();
    values().forEach((k, v) -> result.put(k, mask(k, v)));
    return Collections.unmodifiableMap(result);
  }

  public Optional<String> profileName() {
    return Optional.ofNullable(profileName);
  }

  public Optional<Path> profileFile() {
    return Optional.ofNullable(profileFile);
  }

  /**
   * The value as it may be shown: {@code ********} for secrets (password, token, and any key
   * containing "password", "passwd", "secret", "token" or "credential"); a URL's userinfo password
   * is masked too. Null stays null; an empty secret stays empty.
   */
  public static String mask(String key, String value) {
    if (value == null) {
      return null;
    }
    String k = key == null ? "" : IniFile.normaliseKey(key);
    if (k.contains("password")
        || k.contains("passwd")
        || k.contains("secret")
        || k.contains("token")
        || k.contains("credential")) {
      return value.isEmpty() ? "" : MASK;
    }
    return URL_USERINFO_PASSWORD.matcher(value).replaceFirst("$1:" + MASK + "@");
  }

  /** Never the values: this object holds the password. */
  @Override
  public String toString() {
    return "Settings[profile="
        + profileName
        + ", file="
        + profileFile
        + ", keys="
        + values().keySet()
        + "]";
  }

  private Optional<Boolean> insecureFromSecure() {
    if (env.containsKey(envName("insecure"))) {
      return Optional.empty();
    }
    String secureEnv = env.get(envName("secure"));
    if (secureEnv != null) {
      return Optional.of(!parseBoolean(secureEnv, "env " + envName("secure")));
    }
    if (profile.containsKey("insecure")) {
      return Optional.empty();
    }
    String secure = profile.get("secure");
    if (secure != null) {
      return Optional.of(!parseBoolean(secure, "secure in " + describe(profileName, profileFile)));
    }
    return Optional.empty();
  }

  private static String envName(String key) {
    return ENV_PREFIX + key.toUpperCase(Locale.ROOT);
  }

  private static String describe(String profileName, Path file) {
    return "profile " + profileName + " in " + file;
  }

  /** configparser's getboolean(): 1/yes/true/on, 0/no/false/off. */
  static boolean parseBoolean(String value, String where) {
    switch (value.strip().toLowerCase(Locale.ROOT)) {
      case "1":
      case "yes":
      case "true":
      case "on":
        return true;
      case "0":
      case "no":
      case "false":
      case "off":
        return false;
      default:
        throw DiskferryException.badInput(
            "invalid boolean '"
                + value
                + "' for "
                + where
                + ": use yes/no, true/false, on/off or 1/0");
    }
  }
}
