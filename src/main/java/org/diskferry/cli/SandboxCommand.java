package org.diskferry.cli;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import org.diskferry.error.DiskferryException;
import org.diskferry.sandbox.FaultSpec;
import org.diskferry.sandbox.Sandbox;
import org.diskferry.sandbox.SandboxConfig;
import org.diskferry.sandbox.VmSpec;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/** {@code diskferry sandbox}: a local oVirt-compatible endpoint for trying and testing. */
@Command(
    name = "sandbox",
    description = {
      "Run a local oVirt-compatible endpoint (engine API subset and imageio data plane) that"
          + " stores disks as files, for trying diskferry and for tests.",
      "When ready it prints the DISKFERRY_* settings that point diskferry at it, one per line,"
          + " and serves on 127.0.0.1 until SIGINT or SIGTERM.",
      "VMs (--vm) can be backed up through the engine's VM backup API. Their guest writes, for"
          + " rehearsing incremental backups: PUT $DISKFERRY_ENGINE_URL/sandbox/vms/VM_ID/disks/"
          + "DISK_ID/guest with 'Content-Range: bytes START-END/*', the bytes as the body and the"
          + " sandbox's user and password as HTTP Basic auth, e.g. curl -u"
          + " \"$DISKFERRY_USERNAME:$DISKFERRY_PASSWORD\" -T FILE -H 'Content-Range: bytes"
          + " 0-4095/*' URL. Each write marks its blocks (64 KiB) dirty for every checkpoint; it"
          + " is refused (409) for a VM that is down."
    },
    footerHeading = "%nFaults (--faults SPEC):%n",
    footer = {FaultSpec.SYNTAX})
final class SandboxCommand implements Callable<Integer> {

  @ParentCommand DiskferryCommand root;

  @Mixin HelpOption help;

  @Option(
      names = "--port",
      paramLabel = "N",
      defaultValue = "0",
      converter = OptionTypes.Port.class,
      description = "Engine port on 127.0.0.1 (0 picks a free one; default ${DEFAULT-VALUE}).")
  int port;

  @Option(
      names = "--data-dir",
      paramLabel = "DIR",
      description = "Keep disks here (default: a new temporary directory, removed at exit).")
  Path dataDir;

  @Option(names = "--plain-http", description = "Serve plain HTTP instead of TLS.")
  boolean plainHttp;

  @Option(
      names = "--env-file",
      paramLabel = "FILE",
      description = "Also write the DISKFERRY_* lines to FILE (mode 600), for 'set -a; . FILE'.")
  Path envFile;

  @Option(
      names = "--faults",
      paramLabel = "SPEC",
      description =
          "Misbehave on purpose, to rehearse failures: a comma-separated list of fault"
              + " rules, e.g. 'status:code=503:rate=0.2,seed=42' (see Faults below).")
  String faults;

  @Option(
      names = "--vm",
      paramLabel = "NAME:SIZE",
      description =
          "Create a running VM NAME with one thin qcow2 disk, enabled for incremental backup,"
              + " per SIZE (" + VmSpec.SYNTAX + ", e.g. web:10G,1G), named NAME-disk1,"
              + " NAME-disk2, ...; NAME:raw:SIZE gives raw disks, NAME:down:SIZE a VM that is"
              + " down. Repeatable. Ids are stable per name; they are printed on stderr.")
  List<String> vms = new ArrayList<>();

  @Option(
      names = "--tick",
      paramLabel = "MILLIS",
      hidden = true,
      defaultValue = "250",
      description = "Base period of the emulated engine's state machine.")
  long tickMillis;

  @Override
  public Integer call() throws Exception {
    Cli cli = root.cli;
    List<VmSpec> vmSpecs = new ArrayList<>();
    for (String v : vms) {
      try {
        vmSpecs.add(VmSpec.parse(v));
      } catch (IllegalArgumentException e) {
        throw DiskferryException.badInput("--vm " + e.getMessage());
      }
    }
    SandboxConfig config =
        SandboxConfig.defaults()
            .withPort(port)
            .withDataDir(dataDir)
            .withPlainHttp(plainHttp)
            .withTick(Duration.ofMillis(tickMillis))
            .withVms(vmSpecs);
    FaultSpec faultSpec = null;
    if (faults != null) {
      try {
        faultSpec = FaultSpec.parse(faults);
      } catch (IllegalArgumentException e) {
        throw DiskferryException.badInput("--faults: " + e.getMessage());
      }
    }
    if (dataDir != null && Files.exists(dataDir) && !Files.isDirectory(dataDir)) {
      throw DiskferryException.badInput("--data-dir " + dataDir + " is not a directory");
    }
    CountDownLatch stop = new CountDownLatch(1);
    try (Sandbox sandbox = start(config)) {
      FaultSpec.Injector injector = null;
      if (faultSpec != null) {
        injector = faultSpec.install(sandbox);
        cli.err.println("diskferry: sandbox faults: " + faultSpec);
      }
      StringBuilder lines = new StringBuilder();
      for (Map.Entry<String, String> e : sandbox.environment().entrySet()) {
        lines.append(e.getKey()).append('=').append(e.getValue()).append('\n');
      }
      if (envFile != null) {
        writeEnvFile(envFile, lines.toString());
      }
      for (String vm : sandbox.describeVms()) {
        cli.err.println("diskferry: sandbox " + vm);
      }
      cli.out.print(lines);
      cli.out.flush();
      if (!cli.signals) {
        return 0;
      }
      Signals.install(sig -> stop.countDown());
      stop.await();
      if (injector != null) {
        cli.err.println("diskferry: sandbox faults injected: " + summary(injector));
      }
      cli.err.println("diskferry: sandbox stopped");
    }
    return 0;
  }

  /** Starts the sandbox; a port in use is named, with what to do. */
  private Sandbox start(SandboxConfig config) throws IOException {
    try {
      return Sandbox.start(config);
    } catch (java.net.BindException e) {
      throw DiskferryException.badInput(
          "cannot listen on 127.0.0.1:" + port + ": address already in use; choose another"
              + " --port, or --port 0 for a free one");
    }
  }

  private static String summary(FaultSpec.Injector injector) {
    StringBuilder sb = new StringBuilder();
    for (Map.Entry<String, Long> e : injector.counts().entrySet()) {
      if (sb.length() > 0) {
        sb.append(", ");
      }
      sb.append(e.getValue()).append(" × ").append(e.getKey());
    }
    return sb.toString();
  }

  private static void writeEnvFile(Path file, String content) {
    try {
      Files.deleteIfExists(file);
      try {
        Files.createFile(
            file, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
      } catch (UnsupportedOperationException e) {
        Files.createFile(file);
      }
      Files.writeString(file, content, StandardCharsets.UTF_8, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw DiskferryException.badInput("cannot write " + file + ": " + e.getMessage());
    }
  }
}
