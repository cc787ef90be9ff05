package org.diskferry.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.diskferry.cli.progress.ByteSizes;
import org.diskferry.error.DiskferryException;
import org.diskferry.ovirt.EngineClient;
import org.diskferry.ovirt.ImageTransfer;
import org.diskferry.ovirt.OvirtBackend;
import org.diskferry.transfer.Journal;
import org.diskferry.transfer.JournalStore;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * {@code diskferry status [TRANSFER_ID]}: the engine's transfers and the local journals together,
 * with what {@code resume} can continue.
 */
@Command(
    name = "status",
    description =
        "Show one transfer, or all transfers the engine knows and the local journals of"
            + " interrupted ones.")
final class StatusCommand extends EngineCommand {

  @Parameters(index = "0", arity = "0..1", paramLabel = "TRANSFER_ID", description = "A transfer id.")
  String transferId;

  @Override
  public Integer call() {
    if (glance()) {
      return GlanceCommands.status(this);
    }
    JournalStore store = JournalStore.fromEnvironment(cli().env);
    JournalStore.Listing local = store.listing();
    List<Journal> journals =
        local.journals().stream().filter(j -> !GlanceCommands.isGlance(j)).toList();
    OvirtBackend backend;
    try {
      backend = connect();
    } catch (DiskferryException e) {
      if (e.kind() == DiskferryException.Kind.BAD_INPUT) {
        throw e;
      }
      // The engine cannot be asked: the local journals are still worth seeing, unchecked.
      List<Map<String, Object>> rows = new ArrayList<>();
      for (Journal j : journals) {
        if (transferId == null || j.transferId().equals(transferId)) {
          rows.add(row(null, j, null));
        }
      }
      if (transferId == null || !rows.isEmpty()) {
        print(rows);
      }
      reportUnreadable(local);
      throw e;
    }
    try (backend) {
      print(rows(backend.engine(), store, journals));
    }
    return reportUnreadable(local);
  }

  private List<Map<String, Object>> rows(
      EngineClient engine, JournalStore store, List<Journal> journals) {
    List<Map<String, Object>> rows = new ArrayList<>();
    if (transferId != null) {
      Optional<Journal> j = store.load(transferId);
      Optional<ImageTransfer> t =
          j.isPresent() && j.get().pending() ? Optional.empty() : engine.findTransfer(transferId);
      if (t.isEmpty() && j.isEmpty()) {
        throw DiskferryException.notFound("transfer " + transferId + " not found");
      }
      rows.add(row(t.orElse(null), j.orElse(null), engine));
      return rows;
    }
    for (ImageTransfer t : engine.transfers()) {
      Journal j =
          journals.stream().filter(x -> x.transferId().equals(t.id())).findFirst().orElse(null);
      rows.add(row(t, j, engine));
    }
    for (Journal j : journals) {
      if (rows.stream().noneMatch(r -> j.transferId().equals(r.get("id")))) {
        rows.add(row(null, j, engine));
      }
    }
    return rows;
  }

  private void print(List<Map<String, Object>> rows) {
    if (json()) {
      printJson(transferId != null ? rows.get(0) : rows);
    } else if (rows.isEmpty()) {
      out().println("no transfers");
    } else {
      String fmt = "%-36s  %-36s  %-9s  %-18s  %-21s  %s%n";
      out().printf(fmt, "ID", "DISK", "DIRECTION", "PHASE", "DONE", "RESUMABLE");
      for (Map<String, Object> r : rows) {
        Object resumable = r.get("resumable");
        out().printf(
            fmt,
            r.get("id"),
            orDash(r.get("disk_id")),
            orDash(r.get("direction")),
            r.get("phase"),
            done(r),
            resumable == null ? "unknown" : Boolean.TRUE.equals(resumable) ? "yes" : "no");
      }
    }
  }

  /**
   * Names each journal file that cannot be read (a warning each; the files are kept) and fails
   * the command at the end when there is one: returns the exit code otherwise.
   */
  int reportUnreadable(JournalStore.Listing local) {
    for (String u : local.unreadable()) {
      cli().warn("cannot read journal " + u + "; it is kept, fix or remove it");
    }
    if (!local.unreadable().isEmpty()) {
      throw DiskferryException.failed(
          local.unreadable().size() + " journal file(s) cannot be read (named above)");
    }
    return 0;
  }

  private static Object orDash(Object o) {
    return o == null ? "-" : o;
  }

  private static String done(Map<String, Object> r) {
    Object done = r.get("bytes_done");
    Object size = r.get("size");
    if (done == null) {
      Object t = r.get("transferred");
      return t == null ? "-" : ByteSizes.format((Long) t);
    }
    return ByteSizes.format((Long) done) + (size == null ? "" : " / " + ByteSizes.format((Long) size));
  }

  /**
   * One row of the table.
   *
   * @param engine null when the engine could not be asked: the journal's row is then marked
   *     {@code not_checked} and whether it can be resumed is unknown (null)
   */
  static Map<String, Object> row(ImageTransfer t, Journal j, EngineClient engine) {
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("id", t != null ? t.id() : j.transferId());
    o.put("disk_id", t != null && t.diskId() != null ? t.diskId() : j == null ? null : j.diskId());
    o.put(
        "direction",
        t != null ? t.direction() : j.direction().wire());
    // Without a transfer on the engine: "no_transfer" when the upload created its disk but was
    // stopped before it had a transfer, else "gone" (ended and cleaned up by the engine).
    o.put(
        "phase",
        t != null
            ? t.phase().wire()
            : engine == null ? "not_checked" : j.pending() ? "no_transfer" : "gone");
    o.put("transferred", t == null ? null : t.transferred());
    if (t != null) {
      o.put("active", t.active());
      o.put("host_id", t.hostId());
      o.put("inactivity_timeout", t.inactivityTimeout());
      o.put("timeout_policy", t.timeoutPolicy());
    }
    o.put("journal", j != null);
    if (j != null) {
      o.put("bytes_done", j.bytesDone());
      o.put("size", j.size());
      o.put("local_path", j.localPath());
      o.put("age_seconds", Math.max(0, (System.currentTimeMillis() - j.updated()) / 1000));
    }
    Boolean resumable;
    if (engine == null) {
      resumable = null;
    } else if (j == null) {
      resumable = false;
    } else if (t != null) {
      resumable = !t.phase().wire().equals("finished_success");
    } else {
      // A new transfer can continue it only while its disk exists (the engine removes the disk
      // of a cancelled or failed upload).
      resumable = engine.findDisk(j.diskId()).isPresent();
    }
    o.put("resumable", resumable);
    return o;
  }
}
