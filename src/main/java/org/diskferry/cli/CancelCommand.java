package org.diskferry.cli;

import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import org.diskferry.error.DiskferryException;
import org.diskferry.ovirt.EngineClient;
import org.diskferry.ovirt.ImageTransfer;
import org.diskferry.ovirt.OvirtBackend;
import org.diskferry.ovirt.Poll;
import org.diskferry.ovirt.TransferPhase;
import org.diskferry.transfer.Journal;
import org.diskferry.transfer.JournalStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code diskferry cancel TRANSFER_ID}: cancel a transfer and wait until the engine cleaned up. */
@Command(
    name = "cancel",
    description =
        "Cancel a transfer and wait until the engine has cleaned up (an upload's disk is removed).")
final class CancelCommand extends EngineCommand {

  @Parameters(index = "0", paramLabel = "TRANSFER_ID", description = "The transfer to cancel.")
  String transferId;

  @Option(
      names = "--wait",
      paramLabel = "SECONDS",
      defaultValue = "300",
      description =
          "How long to wait for the engine to clean up (default ${DEFAULT-VALUE}); --timeout"
              + " is the network timeout of every command.")
  long timeoutSeconds;

  @Override
  public Integer call() {
    if (glance()) {
      return GlanceCommands.cancel(this);
    }
    try (OvirtBackend backend = connect()) {
      EngineClient engine = backend.engine();
      JournalStore store = JournalStore.fromEnvironment(cli().env);
      Optional<Journal> journal = store.load(transferId);
      if (journal.isPresent() && journal.get().pending()) {
        return cancelPending(engine, store, journal.get());
      }
      Optional<ImageTransfer> found = engine.findTransfer(transferId);
      if (found.isEmpty() && journal.isPresent()) {
        forget(store, journal.get());
        if (json()) {
          Map<String, Object> o = new LinkedHashMap<>();
          o.put("command", "cancel");
          o.put("transfer_id", transferId);
          o.put("phase", "gone");
          o.put("journal_removed", true);
          printJson(o);
        } else {
          out().println("transfer " + transferId + " is gone from the engine; removed its journal");
        }
        return 0;
      }
      ImageTransfer t =
          found.orElseThrow(
              () -> DiskferryException.notFound("transfer " + transferId + " not found"));
      TransferPhase end = t.phase();
      boolean alreadyFinished = end.isFinished();
      if (!alreadyFinished) {
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
      journal.ifPresent(j -> forget(store, j));
      boolean diskRemoved =
          !alreadyFinished
              && "upload".equals(t.direction())
              && t.diskId() != null
              && engine.findDisk(t.diskId()).isEmpty();
      if (json()) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("command", "cancel");
        o.put("transfer_id", transferId);
        o.put("disk_id", t.diskId());
        o.put("phase", end.wire());
        o.put("disk_removed", diskRemoved);
        o.put("journal_removed", journal.isPresent());
        o.put("already_finished", alreadyFinished);
        printJson(o);
      } else if (alreadyFinished) {
        out().println(
            "transfer " + transferId + " had already finished (" + end.wire()
                + "); nothing to cancel" + (journal.isPresent() ? "; removed its journal" : ""));
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
    }
  }

  /**
   * An upload stopped after it created its disk and before it had a transfer: remove that disk
   * (diskferry made it, and it holds no data yet) and the journal.
   */
  private int cancelPending(EngineClient engine, JournalStore store, Journal j) {
    boolean removed = false;
    if (j.createdDisk()
        && engine.waitUntilUnlocked(j.diskId(), Duration.ofSeconds(timeoutSeconds)).isPresent()) {
      try {
        engine.deleteDisk(j.diskId());
        removed = true;
      } catch (DiskferryException e) {
        if (e.kind() != DiskferryException.Kind.NOT_FOUND) {
          throw e;
        }
      }
    }
    forget(store, j);
    if (json()) {
      Map<String, Object> o = new LinkedHashMap<>();
      o.put("command", "cancel");
      o.put("transfer_id", transferId);
      o.put("disk_id", j.diskId());
      o.put("phase", "no_transfer");
      o.put("disk_removed", removed);
      o.put("journal_removed", true);
      printJson(o);
    } else {
      out().println(
          "upload " + transferId + " had no transfer yet; "
              + (removed ? "removed disk " + j.diskId() + " and " : "")
              + "removed its journal");
    }
    return 0;
  }

  /** Removes a journal, and a download's partial file with it. */
  private void forget(JournalStore store, Journal j) {
    store.delete(j.transferId());
    if (j.direction() == org.diskferry.transfer.Direction.DOWNLOAD) {
      try {
        java.nio.file.Files.deleteIfExists(j.partFile());
      } catch (java.io.IOException e) {
        cli().warn("cannot remove " + j.partFile() + ": " + e.getMessage());
      }
    }
  }
}
