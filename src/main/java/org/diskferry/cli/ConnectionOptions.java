package org.diskferry.cli;

import java.nio.file.Path;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Option;

/**
 * Where to connect: an oVirt engine or an OpenStack cloud. A mixin of the commands that connect
 * (and of {@code config show}, which shows them); the root has it too, so that they can come
 * before the command name ({@code diskferry --engine-url URL status}).
 */
final class ConnectionOptions {

  @ArgGroup(validate = false, order = 1, heading = "%nConnection to an oVirt engine:%n")
  Engine engine = new Engine();

  @ArgGroup(validate = false, order = 2, heading = "%nConnection to OpenStack (Glance):%n")
  OpenStack openstack = new OpenStack();

  @Option(
      names = {"--cafile", "--cacert"},
      paramLabel = "FILE",
      description =
          "CA bundle (PEM) for the engine and imageio, or for Keystone and Glance instead of the"
              + " cloud's cacert (env DISKFERRY_CAFILE).")
  Path cafile;

  @Option(names = "--insecure", description = "Do not verify TLS certificates (not recommended).")
  boolean insecure;

  @Option(
      names = "--timeout",
      paramLabel = "SECONDS",
      converter = OptionTypes.Seconds.class,
      description =
          "Give up on a connection that cannot be made, or a server that sends nothing, after"
              + " SECONDS, 1-86400 (default: 10 to connect, 60 for an answer); a dropped data"
              + " request is still retried.")
  Integer timeout;

  /** The options only an oVirt engine takes. */
  static final class Engine implements Platform.OvirtOnly, Platform.Selects {
    @Option(
        names = "--engine-url",
        paramLabel = "URL",
        description = "oVirt engine, e.g. https://engine.example.com (env DISKFERRY_ENGINE_URL).")
    String url;

    @Option(
        names = "--username",
        paramLabel = "USER",
        description = "Engine user, e.g. admin@internal (env DISKFERRY_USERNAME).")
    String username;

    @Option(
        names = "--password-file",
        paramLabel = "FILE",
        description =
            "Read the password from the first line of FILE; else DISKFERRY_PASSWORD, the profile,"
                + " or a prompt on a terminal.")
    Path passwordFile;
  }

  /** The option that selects the Glance backend. */
  static final class OpenStack implements Platform.GlanceOnly, Platform.Selects {
    @Option(
        names = "--cloud",
        paramLabel = "NAME",
        description =
            "An OpenStack cloud from clouds.yaml (env OS_CLOUD; 'envvars' = the OS_* variables):"
                + " selects the Glance backend.")
    String cloud;
  }
}
