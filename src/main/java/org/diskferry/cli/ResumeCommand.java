package org.diskferry.cli;

import java.nio.file.Path;
import java.util.ArrayList;
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
    if (which.all) {
      return resumeAll(store);
    }
    Journal one = GlanceCommands.journal(store, which.transferId);
    if (glance() || GlanceCommands.isGlance(one)) {
      return GlanceCommands.resume(this, List.of(one), false);
    }
    return execute(o -> o.resume(one.transferId(), request(one)));
  }

  /**
   * Every journal this run can continue: oVirt ones through the engine of the options, Glance
   * ones through the cloud each recorded (only that of --cloud/OS_CLOUD when one is selected).
   * A journal that cannot be resumed, or read, is named and makes the exit code non-zero; the
   * others go on.
   */
  private int resumeAll(JournalStore store) {
    JournalStore.Listing local = store.listing();
    String cloud = glance() ? GlanceCommands.cloudName(this) : null;
    List<Journal> ovirtJournals = new ArrayList<>();
    List<Journal> glanceJournals = new ArrayList<>();
    int worst = 0;
    for (Journal j : local.journals()) {
      if (!GlanceCommands.isGlance(j)) {
        if (cloud == null) {
          ovirtJournals.add(j);
        } else {
          worst = Math.max(worst, skip(j, "it is an oVirt transfer of " + j.endpoint() + ", and --cloud "
              + cloud + " selects Glance"));
        }
      } else if (cloud == null || GlanceCommands.cloudOf(j).equals(cloud)) {
        glanceJournals.add(j);
      } else {
        worst = Math.max(worst, skip(j, "it is a download from cloud "
            + GlanceCommands.cloudOf(j) + ", not " + cloud));
      }
    }
    for (String u : local.unreadable()) {
      cli().error("cannot read journal " + u + "; it is kept, fix or remove it");
      worst = Math.max(worst, 1);
    }
    if (ovirtJournals.isEmpty() && glanceJournals.isEmpty()) {
      if (worst == 0) {
        out().println("nothing to resume");
      }
      return worst;
    }
    for (Journal j : ovirtJournals) {
      current = Path.of(j.localPath());
      try {
        execute(o -> o.resume(j.transferId(), request(j)));
      } catch (DiskferryException e) {
        cli().error(cli().describe(e));
        worst = Math.max(worst, e.kind().exitCode());
      }
    }
    if (!glanceJournals.isEmpty()) {
      worst = Math.max(worst, GlanceCommands.resume(this, glanceJournals, true));
    }
    return worst;
  }

  /** Names a journal that this run cannot resume; the exit code it makes. */
  private int skip(Journal j, String why) {
    cli().error("not resuming " + j.transferId() + " (" + j.localPath() + "): " + why
        + "; run 'diskferry resume --all' without --cloud (and without OS_CLOUD)");
    return 1;
  }

  private TransferRequest request(Journal j) {
    current = Path.of(j.localPath());
    return new TransferRequest(
        j.direction(), current, j.diskId(), null, null, null, false, null,
        checkedWorkers(), checkedBufferSize(), ovirt.host, ovirt.useProxy, null, null, force,
        heartbeat(), checkedRangeSize());
  }


}
