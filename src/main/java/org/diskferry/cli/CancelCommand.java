package org.diskferry.cli;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.diskferry.ovirt.EngineClient;
import org.diskferry.ovirt.ImageTransfer;
import org.diskferry.ovirt.OvirtBackend;
import org.diskferry.ovirt.Poll;
import org.diskferry.ovirt.TransferPhase;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code diskferry cancel TRANSFER_ID}: cancel a transfer and wait until the engine cleaned up. */
@Command(
    name = "cancel",
    mixinStandardHelpOptions = true,
    description =
        "Cancel a transfer and wait until the engine has cleaned up (an upload's disk is removed).")
final class CancelCommand extends EngineCommand {

  @Parameters(index = "0", paramLabel = "TRANSFER_ID", description = "The transfer to cancel.")
  String transferId;

  @Option(
      names = "--timeout",
      paramLabel = "SECONDS",
      defaultValue = "300",
      description = "How long to wait for the engine to clean up (default ${DEFAULT-VALUE}).")
  long timeoutSeconds;

  @Override
  public Integer call() {
    try (OvirtBackend backend = connect()) {
      EngineClient engine = backend.engine();
      ImageTransfer t = engine.transfer(transferId);
      TransferPhase end = t.phase();
      if (!end.isFinished()) {
        engine.cancelTransfer(transferId);
        end =
            Poll.until(
                Duration.ofSeconds(timeoutSeconds),
                "transfer " + transferId + " to be cancelled",
                () -> {
                  Optional<ImageTransfer> now = engine.findTransfer(transferId);
                  if (now.isEmpty()) {
                    return Optional.of(TransferPhase.FINISHED_FAILURE);
                  }
                  return now.get().phase().isFinished()
                      ? Optional.of(now.get().phase())
                      : Optional.empty();
                });
      }
      boolean diskRemoved =
          "upload".equals(t.direction())
              && t.diskId() != null
              && engine.findDisk(t.diskId()).isEmpty();
      if (json()) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("command", "cancel");
        o.put("transfer_id", transferId);
        o.put("disk_id", t.diskId());
        o.put("phase", end.wire());
        o.put("disk_removed", diskRemoved);
        printJson(o);
      } else {
        out().println(
            "cancelled transfer "
                + transferId
                + " ("
                + end.wire()
                + (diskRemoved ? "; disk " + t.diskId() + " removed" : "")
                + ")");
      }
      return 0;
    } finally {
      closeLog();
    }
  }
}
