package org.diskferry.cli;

import java.nio.file.Path;
import java.util.List;
import org.diskferry.error.DiskferryException;
import org.diskferry.transfer.Journal;
import org.diskferry.transfer.JournalStore;
import org.diskferry.transfer.TransferRequest;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code diskferry resume TRANSFER_ID|--all}: continue interrupted transfers from their journal. */
@Command(
    name = "resume",
    description = {
      "Continue an interrupted upload or download where it stopped, from its journal in"
          + " $XDG_STATE_HOME/diskferry/.",
      "A paused transfer is resumed; one the engine ended gets a new transfer on the same disk;"
          + " only the ranges not done move."
    })
final class ResumeCommand extends TransferCommand {

  @ArgGroup(exclusive = true, multiplicity = "1")
  Which which;

  static final class Which {
    @Parameters(paramLabel = "TRANSFER_ID", description = "The transfer to continue.")
    String transferId;

    @Option(names = "--all", description = "Continue every transfer that has a journal.")
    boolean all;
  }

  @Option(names = "--force", description = "Download: overwrite the target file if it exists.")
  boolean force;

  @ArgGroup(validate = false, order = 3, heading = "%noVirt disk options:%n")
  OvirtOptions ovirt = new OvirtOptions();

  @Override
  OvirtOptions ovirt() {
    return ovirt;
  }

  private Path current;

  @Override
  Path filePath() {
    return current;
  }

  @Override
  public Integer call() {
    JournalStore store = JournalStore.fromEnvironment(cli().env);
    if (glance()) {
      return GlanceCommands.resume(this, which.all
          ? GlanceCommands.journals(store, GlanceCommands.cloudName(this))
          : List.of(load(store, which.transferId)));
    }
    if (!which.all) {
      Journal j = load(store, which.transferId);
      if (GlanceCommands.isGlance(j)) {
        return GlanceCommands.resume(this, List.of(j));
      }
    }
    List<String> ids =
        which.all
            ? store.list().stream().filter(j -> !GlanceCommands.isGlance(j))
                .map(Journal::transferId).toList()
            : List.of(which.transferId);
    if (ids.isEmpty()) {
      out().println("nothing to resume");
      return 0;
    }
    int worst = 0;
    for (String id : ids) {
      Journal j =
          store
              .load(id)
              .orElseThrow(
                  () ->
                      DiskferryException.notFound(
                          "no journal of transfer " + id + " in " + store.dir()
                              + "; nothing to resume"));
      current = Path.of(j.localPath());
      TransferRequest req =
          new TransferRequest(
              j.direction(), current, j.diskId(), null, null, null, false, null,
              checkedWorkers(), checkedBufferSize(), ovirt.host, ovirt.useProxy, null, null, force,
              heartbeat(), checkedRangeSize());
      if (!which.all) {
        return execute(o -> o.resume(id, req));
      }
      try {
        execute(o -> o.resume(id, req));
      } catch (DiskferryException e) {
        err().println("diskferry: error: " + e.getMessage());
        worst = Math.max(worst, e.kind().exitCode());
      }
    }
    return worst;
  }

  private static Journal load(JournalStore store, String id) {
    return store.load(id).orElseThrow(() -> DiskferryException.notFound(
        "no journal of transfer " + id + " in " + store.dir() + "; nothing to resume"));
  }
}
