package org.diskferry.cli;

import org.diskferry.config.Settings;
import picocli.CommandLine.IDefaultValueProvider;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.OptionSpec;

/**
 * Supplies every option's default from {@code DISKFERRY_*} variables and the profile, so any
 * option can live in the config file without per-option code: {@code --engine-url} reads the key
 * {@code engine_url}.
 */
final class ProfileDefaults implements IDefaultValueProvider {
  private final Settings settings;

  ProfileDefaults(Settings settings) {
    this.settings = settings;
  }

  static String key(OptionSpec o) {
    return o.longestName().replaceFirst("^-+", "").replace('-', '_');
  }

  @Override
  public String defaultValue(ArgSpec arg) {
    if (!(arg instanceof OptionSpec o) || o.usageHelp() || o.versionHelp()) {
      return null;
    }
    String key = key(o);
    if (key.equals("password_file") || key.equals("profile") || key.equals("config")) {
      return null;
    }
    if (o.type() == boolean.class || o.type() == Boolean.class) {
      // Profiles say yes/no/on/off/1/0 as ovirt-img does; picocli wants true/false.
      return settings.getBoolean(key).map(String::valueOf).orElse(null);
    }
    return settings.get(key).orElse(null);
  }
}
