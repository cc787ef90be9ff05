package org.diskferry.cli;

import java.io.IOException;
import java.io.PrintStream;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import okhttp3.OkHttpClient;
import org.diskferry.cli.progress.ProgressRenderers;
import org.diskferry.config.PasswordSource;
import org.diskferry.config.SecretFiles;
import org.diskferry.error.DiskferryException;
import org.diskferry.http.HttpClientFactory;
import org.diskferry.http.Json;
import org.diskferry.http.TlsOptions;
import org.diskferry.ovirt.EngineClient;
import org.diskferry.ovirt.OvirtBackend;
import org.diskferry.transfer.TransferListener;
import picocli.CommandLine.ParentCommand;

/** Base of the commands that talk to an engine: connection, logging, output, listeners. */
abstract class EngineCommand implements Callable<Integer> {

  @ParentCommand DiskferryCommand root;

  @picocli.CommandLine.Spec picocli.CommandLine.Model.CommandSpec spec;

  Cli cli() {
    return root.cli;
  }

  /** stdout, for the result: the progress display is finished first. */
  PrintStream out() {
    return cli().stdout();
  }

  PrintStream err() {
    return cli().err;
  }

  boolean json() {
    return root.output == DiskferryCommand.OutputFormat.json;
  }

  int verbosity() {
    return root.verbose.length;
  }

  /** Where diagnostics go: stderr with -v, and the log file if one is given. */
  Consumer<String> log(int level) {
    return msg -> {
      if (verbosity() >= level && !root.quiet) {
        err().println("diskferry: " + msg);
      }
      cli().log(msg);
    };
  }

  /**
   * The progress renderer chosen from -o, -q, -v and whether stderr is a terminal, with every event
   * also in the log file. The run owns it: it is finished before the result is printed.
   */
  TransferListener listener() {
    boolean terminal = System.console() != null && cli().signals;
    return cli()
        .progress(
            new LoggedProgress(
                ProgressRenderers.choose(err(), json(), root.quiet, verbosity() > 0, terminal),
                cli()::log));
  }

  OkHttpClient http() {
    if (root.insecure) {
      cli().warn("--insecure: TLS certificates are NOT verified; anyone on the path can read"
          + " and change the data");
    }
    return HttpClientFactory.create(
        new TlsOptions(root.cafile, root.insecure), verbosity() >= 2 ? log(2) : null, timeout());
  }

  /** {@code --timeout}, checked; null for the defaults. */
  java.time.Duration timeout() {
    if (root.timeout == null) {
      return null;
    }
    if (root.timeout < 1 || root.timeout > 86_400) {
      throw DiskferryException.badInput("--timeout must be between 1 and 86400 seconds");
    }
    return java.time.Duration.ofSeconds(root.timeout);
  }

  /** True when a cloud (--cloud, OS_CLOUD) selects the Glance backend. */
  boolean glance() {
    return GlanceCommands.cloudName(this) != null;
  }

  /** Logs in to the engine named by the options, environment or profile. */
  OvirtBackend connect() {
    String url = root.engineUrl;
    if (url == null || url.isBlank()) {
      String from = cli().settings() == null ? "default" : cli().settings().sourceOf("engine_url");
      throw DiskferryException.badInput(
          from.equals("default")
              ? "no engine: use --engine-url, DISKFERRY_ENGINE_URL or a profile (-c NAME)"
              : "engine_url is empty in " + from + "; set it there or use --engine-url");
    }
    String user = root.username;
    if (user == null || user.isBlank()) {
      throw DiskferryException.badInput(
          "no user: use --username, DISKFERRY_USERNAME or a profile (-c NAME)");
    }
    if (root.passwordFile != null) {
      SecretFiles.warnIfShared(root.passwordFile, "a password", cli()::warn);
    }
    char[] password =
        PasswordSource.resolve(root.passwordFile, cli().settings(), System.console(), user);
    OkHttpClient http = http();
    log(1).accept("contacting the engine at " + url + " as " + user + " (timeout "
        + (root.timeout == null ? "10 s to connect, 60 s to answer" : root.timeout + " s") + ")");
    // The client keeps the password for a re-login after a 401 and wipes it on close.
    EngineClient engine = EngineClient.login(http, url, user, password);
    return new OvirtBackend(engine, http);
  }

  /** Prints one JSON object on stdout. */
  void printJson(Object value) {
    try {
      out().println(Json.mapper().writeValueAsString(value));
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
  }
}
