package org.diskferry.cli;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import java.util.concurrent.Callable;
import java.util.function.Consumer;
import okhttp3.OkHttpClient;
import org.diskferry.cli.progress.ProgressRenderers;
import org.diskferry.config.PasswordSource;
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

  private PrintStream logFile;

  Cli cli() {
    return root.cli;
  }

  PrintStream out() {
    return cli().out;
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
      PrintStream f = logFile();
      if (f != null) {
        f.println(LocalDateTime.now().format(DateTimeFormatter.ISO_LOCAL_DATE_TIME) + " " + msg);
      }
    };
  }

  private synchronized PrintStream logFile() {
    if (logFile == null && output.logFile != null) {
      try {
        logFile =
            new PrintStream(
                new FileOutputStream(output.logFile.toFile(), true), true, StandardCharsets.UTF_8);
      } catch (IOException e) {
        throw DiskferryException.badInput(
            "cannot open log file " + output.logFile + ": " + e.getMessage());
      }
    }
    return logFile;
  }

  /** The progress renderer chosen from -o, -q, -v and whether stderr is a terminal. */
  TransferListener listener() {
    boolean terminal = System.console() != null && cli().signals;
    TransferListener shown =
        ProgressRenderers.choose(err(), json(), output.quiet, verbosity() > 0, terminal);
    Consumer<String> file = log(Integer.MAX_VALUE);
    return new TransferListener() {
      @Override
      public void phase(String phase) {
        shown.phase(phase);
        file.accept("phase: " + phase);
      }

      @Override
      public void progress(long transferred, long size) {
        shown.progress(transferred, size);
      }

      @Override
      public void info(String message) {
        shown.info(message);
        file.accept(message);
      }

      @Override
      public void warn(String message) {
        shown.warn(message);
        file.accept("warning: " + message);
      }

      @Override
      public void retry(String what, int attempt, Throwable cause) {
        shown.retry(what, attempt, cause);
        file.accept("retry " + attempt + ": " + what + ": " + cause.getMessage());
      }
    };
  }

  OkHttpClient http() {
    if (connection.insecure) {
      cli().warn("--insecure: TLS certificates are NOT verified; anyone on the path can read"
          + " and change the data");
    }
    return HttpClientFactory.create(
        new TlsOptions(connection.cafile, connection.insecure), verbosity() >= 2 ? log(2) : null);
  }

  /** True when a cloud (--cloud, OS_CLOUD) selects the Glance backend. */
  boolean glance() {
    return platform == Platform.GLANCE;
  }

  /** Logs in to the engine named by the options, environment or profile. */
  OvirtBackend connect() {
    String url = connection.engine.url;
    if (url == null || url.isBlank()) {
      throw DiskferryException.badInput(
          "no engine: use --engine-url, DISKFERRY_ENGINE_URL or a profile (-c NAME)");
    }
    String user = connection.engine.username;
    if (user == null || user.isBlank()) {
      throw DiskferryException.badInput(
          "no user: use --username, DISKFERRY_USERNAME or a profile (-c NAME)");
    }
    char[] password =
        PasswordSource.resolve(connection.engine.passwordFile, cli().settings(), System.console(), user);
    OkHttpClient http = http();
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

  void closeLog() {
    if (logFile != null) {
      logFile.close();
    }
  }
}
