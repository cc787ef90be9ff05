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
import picocli.CommandLine.Mixin;
import picocli.CommandLine.ParentCommand;

/** Base of the commands that talk to an engine: connection, logging, output, listeners. */
abstract class EngineCommand implements Callable<Integer> {

  @ParentCommand DiskferryCommand root;

  @Mixin HelpOption help;

  @Mixin ConnectionOptions connection;

  @Mixin OutputOptions output;

  /** The platform this run works on, chosen from the options before the command runs. */
  Platform platform = Platform.OVIRT;

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
    return output.json();
  }

  int verbosity() {
    return output.verbose.length;
  }

  /** Where diagnostics go: stderr with -v, and the log file if one is given. */
  Consumer<String> log(int level) {
    return msg -> {
      if (verbosity() >= level && !output.quiet) {
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
                ProgressRenderers.choose(err(), json(), output.quiet, verbosity() > 0, terminal),
                cli()::log));
  }

  OkHttpClient http() {
    if (connection.insecure) {
      cli().warn("--insecure: TLS certificates are NOT verified; anyone on the path can read"
          + " and change the data");
    }
    return HttpClientFactory.create(
        new TlsOptions(connection.cafile, connection.insecure), verbosity() >= 2 ? log(2) : null,
        timeout());
  }

  /** {@code --timeout} (range-checked by picocli); null for the defaults. */
  java.time.Duration timeout() {
    return connection.timeout == null ? null : java.time.Duration.ofSeconds(connection.timeout);
  }

  /** True when a cloud (--cloud, OS_CLOUD) selects the Glance backend. */
  boolean glance() {
    return platform == Platform.GLANCE;
  }

  /** Logs in to the engine named by the options, environment or profile. */
  OvirtBackend connect() {
    String url = connection.engine.url;
    if (url == null || url.isBlank()) {
      String from = cli().settings() == null ? "default" : cli().settings().sourceOf("engine_url");
      throw DiskferryException.badInput(
          from.equals("default")
              ? "no engine: use --engine-url, DISKFERRY_ENGINE_URL or a profile (-c NAME)"
              : "engine_url is empty in " + from + "; set it there or use --engine-url");
    }
    String user = connection.engine.username;
    if (user == null || user.isBlank()) {
      throw DiskferryException.badInput(
          "no user: use --username, DISKFERRY_USERNAME or a profile (-c NAME)");
    }
    if (connection.engine.passwordFile != null) {
      SecretFiles.warnIfShared(connection.engine.passwordFile, "a password", cli()::warn);
    }
    char[] password =
        PasswordSource.resolve(connection.engine.passwordFile, cli().settings(), System.console(), user);
    OkHttpClient http = http();
    log(1).accept("contacting the engine at " + url + " as " + user + " (timeout "
        + (connection.timeout == null ? "10 s to connect, 60 s to answer" : connection.timeout + " s") + ")");
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
