package org.diskferry.cli;

import java.util.LinkedHashMap;
import java.util.Map;
import org.diskferry.cli.progress.ByteSizes;
import org.diskferry.ovirt.OvirtBackend;
import org.diskferry.transfer.Orchestrator;
import org.diskferry.transfer.TransferListener;
import org.diskferry.transfer.TransferRequest;
import org.diskferry.transfer.TransferResult;
import picocli.CommandLine.Option;

/** Options and flow shared by upload and download. */
abstract class TransferCommand extends EngineCommand {

  @Option(
      names = "--buffer-size",
      paramLabel = "SIZE",
      converter = OptionTypes.BufferSize.class,
      description = "Buffer per connection, 64K to 64M, e.g. 4M or 8MiB (default ${DEFAULT-VALUE}).",
      defaultValue = "4M")
  long bufferSize;

  @Option(
      names = "--retries",
      paramLabel = "N",
      defaultValue = "5",
      converter = OptionTypes.Retries.class,
      description =
          "Tries again a range that failed transiently (dropped connection, timeout, 5xx) up to"
              + " N times, with growing delays (default ${DEFAULT-VALUE}; 0 turns retries off).")
  int retries;

  @Option(
      names = "--retry-delay",
      paramLabel = "MILLIS",
      hidden = true,
      defaultValue = "500",
      converter = OptionTypes.NotNegative.class,
      description = "Delay before the first retry; it doubles up to 15 s.")
  int retryDelayMillis;

  /** The options of a transfer that only oVirt takes, in the command's oVirt group. */
  static class OvirtOptions implements Platform.OvirtOnly {
    @Option(
        names = "--workers",
        paramLabel = "N",
        converter = OptionTypes.Workers.class,
        description = "Parallel connections, 1-16 (default ${DEFAULT-VALUE}; capped by the server).",
        defaultValue = "4")
    int workers;

    @Option(
        names = "--host",
        paramLabel = "ID|NAME",
        description = "Run the transfer on this host (default: the engine chooses).")
    String host;

    @Option(
        names = "--use-proxy",
        description = "Send data through the engine's imageio proxy instead of the host.")
    boolean useProxy;

    @Option(
        names = "--verify",
        description =
            "After the data moved, compare the server's checksum of the disk (imageio's blkhash:"
                + " blake2b over 4 MiB blocks) with the local one; a mismatch fails the transfer.")
    boolean verify;

    @Option(
        names = "--cancel-on-interrupt",
        description =
            "On SIGINT/SIGTERM or when retries run out, cancel the transfer (an upload's disk is"
                + " removed) instead of suspending it for 'diskferry resume'.")
    boolean cancelOnInterrupt;

    @Option(
        names = "--heartbeat",
        paramLabel = "SECONDS",
        hidden = true,
        defaultValue = "60",
        description = "Seconds between extend calls while the transfer runs.")
    double heartbeatSeconds;

    @Option(
        names = "--range-size",
        paramLabel = "SIZE",
        hidden = true,
        defaultValue = "64M",
        converter = OptionTypes.RangeSize.class,
        description = "Bytes per range, the unit of work.")
    long rangeSize;
  }

  /** Settings of the backend that only some commands have (upload's --unique-name). */
  void configure(OvirtBackend backend) {}

  /** The command's oVirt group. */
  abstract OvirtOptions ovirt();

  /** How long a second signal waits for the open transfer to end before the process ends. */
  static final java.time.Duration STOP_DEADLINE = java.time.Duration.ofSeconds(10);

  int checkedWorkers() {
    return ovirt().workers;
  }

  int checkedBufferSize() {
    return (int) bufferSize;
  }

  long checkedRangeSize() {
    return ovirt().rangeSize;
  }

  org.diskferry.transfer.RetryPolicy retryPolicy() {
    java.time.Duration first = java.time.Duration.ofMillis(retryDelayMillis);
    java.time.Duration max = java.time.Duration.ofSeconds(15);
    return new org.diskferry.transfer.RetryPolicy(
        retries + 1, Math.max(retries, 100), first, first.compareTo(max) > 0 ? first : max);
  }

  java.time.Duration heartbeat() {
    return java.time.Duration.ofMillis((long) (ovirt().heartbeatSeconds * 1000));
  }

  /** Runs the request with signal handling, prints the result, returns the exit code. */
  int transfer(TransferRequest request) {
    return execute(o -> o.run(request));
  }

  /** Runs a transfer through an orchestrator with journals and signal handling. */
  int execute(java.util.function.Function<Orchestrator, TransferResult> job) {
    TransferListener listener = listener();
    try (OvirtBackend backend = connect()) {
      backend.engine().retries(retryPolicy(), listener::retry);
      configure(backend);
      Orchestrator orchestrator =
          new Orchestrator(
              backend,
              listener,
              retryPolicy(),
              org.diskferry.transfer.JournalStore.fromEnvironment(cli().env),
              ovirt().cancelOnInterrupt)
              .verifyChecksums(ovirt().verify);
      if (cli().signals) {
        Signals.install(
            sig -> orchestrator.interrupt("interrupted by " + sig),
            sig -> orchestrator.stopNow("interrupted again by " + sig, STOP_DEADLINE),
            cli()::error);
      }
      printResult(job.apply(orchestrator));
      return 0;
    }
  }

  void printResult(TransferResult r) {
    String command = r.direction() == org.diskferry.transfer.Direction.UPLOAD ? "upload" : "download";
    if (json()) {
      Map<String, Object> o = new LinkedHashMap<>();
      o.put("command", command);
      o.put("transfer_id", r.transferId());
      o.put("disk_id", r.diskId());
      o.put("phase", r.phase());
      o.put("bytes", r.size());
      o.put("bytes_sent", r.bytesSent());
      o.put("seconds", Math.round(r.seconds() * 1000) / 1000.0);
      o.put("data_seconds", Math.round(r.dataSeconds() * 1000) / 1000.0);
      o.put("bytes_before", r.bytesBefore());
      o.put("workers", r.workers());
      o.put("retries", r.retries());
      if (r.checksum() != null) {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("algorithm", org.diskferry.image.BlockHash.ALGORITHM);
        c.put("block_size", org.diskferry.image.BlockHash.DEFAULT_BLOCK_SIZE);
        c.put("checksum", r.checksum());
        c.put("verified", true);
        o.put("checksum", c);
      }
      o.put("file", String.valueOf(filePath()));
      printJson(o);
    } else {
      String what =
          command.equals("upload")
              ? "uploaded " + filePath() + " to disk " + r.diskId()
              : "downloaded disk " + r.diskId() + " to " + filePath();
      if (r.checksum() != null) {
        what += ", checksum verified";
      }
      out().printf("%s (%s; transfer %s)%n", what, figures(r), r.transferId());
    }
  }

  /**
   * What the summary says of the bytes and time: the rate is that of the data phase, as the
   * progress line showed it, not of the whole command (log in, create, wait, finalize).
   */
  static String figures(TransferResult r) {
    if (r.bytesThisRun() == 0) {
      return ByteSizes.format(r.size()) + ", nothing was left to move, in "
          + String.format(java.util.Locale.ROOT, "%.1f s", r.seconds());
    }
    String done = r.bytesBefore() > 0
        ? ByteSizes.format(r.bytesThisRun()) + " of " + ByteSizes.format(r.size())
        : ByteSizes.format(r.size());
    double mib = r.bytesThisRun() / (1024.0 * 1024.0);
    return String.format(java.util.Locale.ROOT, "%s in %.1f s; data %.1f s at %.1f MiB/s", done,
        r.seconds(), r.dataSeconds(), r.dataSeconds() > 0 ? mib / r.dataSeconds() : 0.0);
  }

  abstract java.nio.file.Path filePath();
}
