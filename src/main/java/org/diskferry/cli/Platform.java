package org.diskferry.cli;

import java.util.Map;
import java.util.Set;
import org.diskferry.config.Settings;
import picocli.CommandLine.Model.ArgGroupSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;
import picocli.CommandLine.ParameterException;

/**
 * The two platforms a command can work on, and which one a run means. Options that only one
 * platform takes are in argument groups whose class says which ({@link OvirtOnly}, {@link
 * GlanceOnly}); the connection groups ({@link Selects}) choose the platform, the others must
 * agree with it.
 */
enum Platform {
  OVIRT,
  GLANCE;

  /** An argument group of options only oVirt takes. */
  interface OvirtOnly {}

  /** An argument group of options only Glance takes. */
  interface GlanceOnly {}

  /** A group whose options, given on the command line, choose their platform. */
  interface Selects {}

  /** The platform of an argument group (or of the group it is in), or null for both. */
  static Platform of(ArgGroupSpec group) {
    for (ArgGroupSpec g = group; g != null; g = g.parentGroup()) {
      Class<?> type = g.typeInfo().getType();
      if (OvirtOnly.class.isAssignableFrom(type)) {
        return OVIRT;
      }
      if (GlanceOnly.class.isAssignableFrom(type)) {
        return GLANCE;
      }
    }
    return null;
  }

  private static boolean selects(OptionSpec o) {
    return o.group() != null && Selects.class.isAssignableFrom(o.group().typeInfo().getType());
  }

  /**
   * The platform of a run of {@code spec}. An option on the command line wins over the
   * environment: an oVirt connection option ({@code --engine-url}, ...) means oVirt, {@code
   * --cloud} means Glance, both are a usage error; so is an option of the other platform. Without
   * one, the platform configured by a profile named with {@code -c} wins over one configured by
   * the environment or the default profile; both at the same level is a usage error that says
   * how to choose.
   *
   * @param given the long names of the options given on the command line, at any level
   * @param cloud the cloud from {@code --cloud}, DISKFERRY_CLOUD or the profile, or null
   * @throws ParameterException for options of both platforms or a choice left open
   */
  static Platform choose(
      CommandSpec spec, Set<String> given, Settings settings, Map<String, String> env,
      String cloud) {
    String ovirtOption = null;
    String glanceOption = null;
    for (OptionSpec o : spec.options()) {
      if (selects(o) && given.contains(o.longestName())) {
        if (of(o.group()) == OVIRT) {
          ovirtOption = ovirtOption == null ? o.longestName() : ovirtOption;
        } else {
          glanceOption = o.longestName();
        }
      }
    }
    String osCloud = blankToNull(env.get("OS_CLOUD"));
    String cloudName = cloud != null ? cloud : osCloud;
    Platform chosen;
    if (ovirtOption != null && glanceOption != null) {
      throw new ParameterException(spec.commandLine(),
          ovirtOption + " is an oVirt option; it cannot be used with --cloud " + cloudName);
    } else if (ovirtOption != null) {
      chosen = OVIRT;
    } else if (glanceOption != null) {
      chosen = GLANCE;
    } else {
      boolean named = given.contains("--profile");
      int ovirt = rank(settings, "engine_url", named);
      int glance = Math.max(rank(settings, "cloud", named), osCloud == null ? 0 : 1);
      if (ovirt > 0 && ovirt == glance) {
        String engineFrom = settings.sourceOf("engine_url");
        String cloudFrom = cloud != null ? settings.sourceOf("cloud") : "env OS_CLOUD";
        throw new ParameterException(spec.commandLine(),
            "both an oVirt engine (" + engineFrom + ") and an OpenStack cloud ('" + cloudName
                + "', " + cloudFrom + ") are configured; choose one with --engine-url URL or"
                + " --cloud " + cloudName);
      }
      chosen = glance > ovirt ? GLANCE : OVIRT;
    }
    for (OptionSpec o : spec.options()) {
      Platform p = o.group() == null ? null : of(o.group());
      if (p == null || p == chosen || !given.contains(o.longestName())) {
        continue;
      }
      throw new ParameterException(spec.commandLine(), chosen == GLANCE
          ? o.longestName() + " is an oVirt option; it cannot be used with --cloud "
              + (cloudName == null ? "" : cloudName)
          : o.longestName() + " is a Glance option; select a cloud with --cloud NAME (or"
              + " OS_CLOUD)");
    }
    return chosen;
  }

  /** 0: not configured; 1: by the environment or the default profile; 2: by a named profile. */
  private static int rank(Settings settings, String key, boolean profileNamed) {
    if (settings.get(key).map(String::isBlank).orElse(true)) {
      return 0;
    }
    return profileNamed && settings.sourceOf(key).startsWith("profile ") ? 2 : 1;
  }

  private static String blankToNull(String s) {
    return s == null || s.isBlank() ? null : s;
  }
}
