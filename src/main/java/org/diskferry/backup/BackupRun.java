package org.diskferry.backup;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import org.diskferry.error.DiskferryException;
import org.diskferry.ovirt.BackupDiskBackend;
import org.diskferry.ovirt.OvirtBackend;
import org.diskferry.ovirt.VmBackups;
import org.diskferry.transfer.Direction;
import org.diskferry.transfer.Orchestrator;
import org.diskferry.transfer.RetryPolicy;
import org.diskferry.transfer.TransferInterruptedException;
import org.diskferry.transfer.TransferListener;
import org.diskferry.transfer.TransferRequest;
import org.diskferry.transfer.TransferResult;

/**
 * Backs up VMs into a {@link Repository}, one after the other: the engine's backup flow (start
 * with an id of our own, wait until ready, per disk an image transfer moved by the {@link
 * Orchestrator}, finalize), one qcow2 per disk, the manifest and the VM's OVF. The engine backup
 * is finalized whatever happens, and a backup's folder gets its name only when it succeeded.
 */
public final class BackupRun {

  /**
   * @param mode {@code auto}, {@code full} or {@code incremental}
   * @param diskIds the disks to back up, or empty for every disk that can be
   * @param keep after a backup that succeeded, keep this many of the VM's newest backups (and
   *     what they build on), or 0 to keep all
   * @param transfer workers, buffer and range sizes, heartbeat, host and proxy of each disk's
   *     download (its direction, file and disk are filled in per disk)
   */
  public record Options(
      String mode, List<String> diskIds, TransferRequest transfer, RetryPolicy retry, int keep) {}

  /**
   * What happened to one VM.
   *
   * @param status {@code succeeded}, {@code skipped} (being backed up elsewhere) or {@code
   *     failed}
   * @param exitCode 0, or the exit code of the failure
   */
  public record Result(
      String vm,
      String vmId,
      String vmName,
      String status,
      String backupId,
      String mode,
      Path dir,
      List<Manifest.DiskEntry> disks,
      double seconds,
      String error,
      int exitCode,
      List<String> removed) {

    public long bytes() {
      return disks.stream().mapToLong(Manifest.DiskEntry::bytes).sum();
    }
  }

  private final OvirtBackend ovirt;
  private final VmBackups backups;
  private final Repository repo;
  private final TransferListener listener;
  private final Options options;
  private volatile String stopReason;
  private volatile Orchestrator current;

  public BackupRun(
      OvirtBackend ovirt, Repository repo, TransferListener listener, Options options) {
    this.ovirt = ovirt;
    this.backups = new VmBackups(ovirt.engine());
    this.repo = repo;
    this.listener = listener;
    this.options = options;
  }

  /** Asks the run to stop: the disk moving now stops at a buffer boundary, no VM starts after. */
  public void interrupt(String reason) {
    stopReason = reason;
    Orchestrator o = current;
    if (o != null) {
      o.interrupt(reason);
    }
  }

  private void checkInterrupted() {
    if (stopReason != null) {
      throw new TransferInterruptedException(stopReason, null);
    }
  }

  /**
   * Backs up one VM (an id or a name). Failures of this VM are in the result; an interrupt is
   * thrown (after the engine backup was finalized).
   */
  public Result run(String vmArg) {
    long t0 = System.nanoTime();
    VmBackups.Vm vm = null;
    try {
      checkInterrupted();
      vm = backups.vm(vmArg);
      return backUp(vm, t0);
    } catch (TransferInterruptedException e) {
      throw e;
    } catch (DiskferryException e) {
      boolean skipped = e.kind() == DiskferryException.Kind.CONFLICT;
      return failed(vmArg, vm, skipped ? "skipped" : "failed", t0, e.getMessage(),
          e.kind().exitCode());
    } catch (RuntimeException e) {
      // Not one of ours (a bug, an I/O error in a library): this VM failed, the next ones run.
      String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      return failed(vmArg, vm, "failed", t0, msg, 1);
    }
  }

  private static Result failed(
      String vmArg, VmBackups.Vm vm, String status, long t0, String error, int exitCode) {
    return new Result(
        vmArg, vm == null ? null : vm.id(), vm == null ? null : vm.name(), status, null, null,
        null, List.of(), seconds(t0), error, exitCode, List.of());
  }

  private Result backUp(VmBackups.Vm vm, long t0) {
    List<VmBackups.VmDisk> disks = selectDisks(vm);
    Path vmDir = repo.vmDir(vm.id(), vm.name());
    recoverDeadRuns(vm, vmDir);
    BaseChoice choice = BaseChoice.choose(options.mode(), repo.backups(vmDir), repo::whyNotBase);
    if (choice.warning() != null) {
      listener.warn("VM " + vm.name() + ": " + choice.warning());
    }
    Repository.Entry base = choice.base();
    String backupId = UUID.randomUUID().toString();
    Instant started = Instant.now();
    String folder = Repository.backupFolder(started, backupId);
    Path partial = Repository.partialDir(vmDir, folder);
    RunLock lock;
    try {
      // Locked before the folder exists, so no other run ever sees it unlocked.
      Files.createDirectories(vmDir);
      lock = RunLock.take(vmDir, folder);
      try {
        Files.createDirectories(partial);
      } catch (IOException e) {
        lock.close();
        throw e;
      }
    } catch (IOException e) {
      throw DiskferryException.failed("cannot create " + partial + ": " + e.getMessage());
    }
    boolean committed = false;
    try (lock) {
      listener.phase("starting backup of VM " + vm.name());
      List<String> ids = disks.stream().map(VmBackups.VmDisk::id).toList();
      String description = "diskferry " + (base == null ? "full" : "incremental") + " backup";
      try {
        backups.start(vm.id(), backupId, base == null ? null : base.manifest().toCheckpoint(),
            ids, description);
      } catch (VmBackups.CheckpointRefused e) {
        listener.warn(
            "VM " + vm.name() + ": the engine refused checkpoint "
                + base.manifest().toCheckpoint() + " (" + e.getMessage()
                + "); taking a full backup");
        base = null;
        backups.start(vm.id(), backupId, null, ids, "diskferry full backup");
      }
      Manifest m;
      String phase;
      try {
        m = moveDisks(vm, disks, backupId, base, partial, started);
      } finally {
        phase = endEngineBackup(vm, backupId);
      }
      if (!"succeeded".equals(phase)) {
        throw DiskferryException.failed(
            "the engine ended backup " + backupId + " of VM " + vm.name() + " as " + phase
                + "; its files were removed, the previous backups are unchanged");
      }
      m = withOvf(vm, partial, m);
      Repository.writeManifest(partial, m);
      Path dir = Repository.commit(partial, vmDir, folder);
      committed = true;
      List<String> removed = options.keep() > 0 ? prune(vm, vmDir) : List.of();
      return new Result(
          vm.name(), vm.id(), vm.name(), "succeeded", backupId, m.mode(), dir, m.disks(),
          seconds(t0), null, 0, removed);
    } catch (IOException e) {
      throw DiskferryException.failed("cannot write the backup of VM " + vm.name() + " in "
          + partial + ": " + e.getMessage());
    } finally {
      if (!committed && !Repository.discard(partial)) {
        listener.warn("could not remove the partial backup " + partial);
      }
    }
  }

  /**
   * {@code --keep}: removes the VM's backups that are neither among the newest kept nor needed by
   * them, then the engine checkpoints only they had created. Failures are warnings: the backup
   * itself succeeded.
   */
  private List<String> prune(VmBackups.Vm vm, Path vmDir) {
    List<String> removed = new ArrayList<>();
    try {
      List<String> checkpoints =
          backups.checkpoints(vm.id()).stream().map(VmBackups.Checkpoint::id).toList();
      Retention.Plan plan = Retention.plan(options.keep(), repo.backups(vmDir), checkpoints);
      for (Repository.Entry e : plan.remove()) {
        if (Repository.discard(e.dir())) {
          removed.add(e.folder());
          listener.info("removed backup " + e.dir());
        } else {
          listener.warn("could not remove all of backup " + e.dir());
        }
      }
      for (String cp : plan.checkpoints()) {
        try {
          backups.deleteCheckpoint(vm.id(), cp);
          listener.info("deleted checkpoint " + cp + " of VM " + vm.name());
        } catch (RuntimeException ex) {
          listener.warn("could not delete checkpoint " + cp + " of VM " + vm.name() + ": "
              + ex.getMessage());
        }
      }
    } catch (RuntimeException ex) {
      listener.warn("--keep: " + ex.getMessage());
    }
    return removed;
  }

  /**
   * A run that was killed (kill -9, a crash, a lost machine) leaves its partial folder, unlocked,
   * and its engine backup open, which makes the engine refuse every later backup of the VM (409).
   * Finalizes such backups and removes their folders; a partial folder that another run holds
   * locked is left alone.
   */
  private void recoverDeadRuns(VmBackups.Vm vm, Path vmDir) {
    for (Path p : repo.partials(vmDir)) {
      String folder = Repository.folderOfPartial(p);
      try (RunLock lock = RunLock.tryTake(vmDir, folder)) {
        if (lock == null) {
          continue; // a run in progress
        }
        String id = folder.substring(folder.indexOf('-') + 1);
        listener.warn(
            "VM " + vm.name() + ": backup " + id + " was left by a run that was stopped; it must"
                + " run again: ending it on the engine and removing " + p);
        String phase = backups.finalizeLeftOver(vm.id(), id);
        listener.info("backup " + id + " ended " + phase);
        if (!Repository.discard(p)) {
          listener.warn("could not remove the partial backup " + p);
        }
      } catch (IOException | RuntimeException e) {
        listener.warn("could not clean up the partial backup " + p + ": " + e.getMessage());
      }
    }
  }

  /** The disks to back up; those the engine cannot back up are named in a warning. */
  private List<VmBackups.VmDisk> selectDisks(VmBackups.Vm vm) {
    List<VmBackups.VmDisk> all = backups.disks(vm.id());
    for (String want : options.diskIds()) {
      if (all.stream().noneMatch(d -> d.id().equalsIgnoreCase(want))) {
        throw DiskferryException.notFound("disk " + want + " is not attached to VM " + vm.name());
      }
    }
    List<VmBackups.VmDisk> out = new ArrayList<>();
    List<String> skipped = new ArrayList<>();
    for (VmBackups.VmDisk d : all) {
      if (!options.diskIds().isEmpty()
          && options.diskIds().stream().noneMatch(w -> w.equalsIgnoreCase(d.id()))) {
        continue;
      }
      String why = d.whyNotBackedUp();
      if (why != null) {
        skipped.add(d.alias() + " (" + d.id() + ", " + why + ")");
      } else {
        out.add(d);
      }
    }
    if (!skipped.isEmpty()) {
      listener.warn(
          "VM " + vm.name() + ": skipping disks that cannot be backed up: "
              + String.join(", ", skipped));
    }
    if (out.isEmpty()) {
      throw DiskferryException.badInput("VM " + vm.name() + " has no disk that can be backed up");
    }
    return out;
  }

  private Manifest moveDisks(
      VmBackups.Vm vm,
      List<VmBackups.VmDisk> disks,
      String backupId,
      Repository.Entry base,
      Path partial,
      Instant started)
      throws IOException {
    VmBackups.Backup ready =
        backups.waitReady(vm.id(), backupId, VmBackups.READY_TIMEOUT, this::checkInterrupted);
    Map<String, String> modes = backups.backupModes(vm.id(), backupId);
    Orchestrator orchestrator =
        new Orchestrator(
            new BackupDiskBackend(ovirt, backups, backupId), listener, options.retry(), null,
            true);
    current = orchestrator;
    List<Manifest.DiskEntry> entries = new ArrayList<>();
    try {
      for (VmBackups.VmDisk d : disks) {
        checkInterrupted();
        String mode = modes.getOrDefault(d.id(), "full");
        Manifest.DiskEntry previous = base == null ? null : base.manifest().disk(d.id());
        String file = d.id() + ".qcow2";
        Path target = partial.resolve(file);
        TransferRequest req = forDisk(target, d.id());
        String backing = null;
        TransferResult r;
        if ("incremental".equals(mode) && previous != null) {
          backing = "../" + base.folder() + "/" + previous.file();
          listener.phase("backing up changes of disk " + d.alias());
          r = orchestrator.downloadChanges(req, backing);
        } else {
          if ("incremental".equals(mode)) {
            listener.warn(
                "disk " + d.alias() + " is not in backup " + base.folder() + "; backing it up"
                    + " whole");
          } else if (base != null) {
            listener.info("the engine backs up disk " + d.alias() + " whole (backup_mode full)");
          }
          mode = "full";
          listener.phase("backing up disk " + d.alias());
          r = orchestrator.run(req);
        }
        entries.add(
            new Manifest.DiskEntry(
                d.id(), d.alias(), d.provisionedSize(), d.format(), mode, file, backing,
                r.bytesSent(), Files.size(target), r.checksum()));
      }
    } finally {
      current = null;
    }
    boolean incremental = entries.stream().anyMatch(e -> e.backingFile() != null);
    return new Manifest(
        Manifest.VERSION, ovirt.endpoint(), vm.id(), vm.name(), backupId,
        incremental ? "incremental" : "full", incremental ? base.folder() : null,
        incremental ? base.manifest().toCheckpoint() : null, ready.toCheckpointId(),
        started.toString(), Instant.now().toString(), "succeeded", null, entries);
  }

  private TransferRequest forDisk(Path target, String diskId) {
    TransferRequest t = options.transfer();
    return new TransferRequest(
        Direction.DOWNLOAD, target, diskId, null, null, "qcow2", false, null, t.workers(),
        t.bufferSize(), t.host(), t.useProxy(), null, t.inactivityTimeout(), false, t.heartbeat(),
        t.rangeSize());
  }

  /**
   * Finalizes the engine backup and waits until it has ended, so that the VM is not left "during
   * a backup operation"; returns its last phase. Failures are warnings: after a failed run the
   * run's own error is the one to report.
   */
  private String endEngineBackup(VmBackups.Vm vm, String backupId) {
    listener.phase("finalizing backup");
    try {
      backups.finalizeBackup(vm.id(), backupId);
      return backups.waitFinished(vm.id(), backupId, VmBackups.FINISH_TIMEOUT);
    } catch (RuntimeException e) {
      listener.warn(
          "could not finalize backup " + backupId + " of VM " + vm.name() + ": "
              + e.getMessage());
      return "unknown";
    }
  }

  /** Saves the VM's OVF beside the disks, when the engine gives it. */
  private Manifest withOvf(VmBackups.Vm vm, Path partial, Manifest m) throws IOException {
    Optional<String> ovf = backups.ovf(vm.id());
    if (ovf.isEmpty()) {
      listener.warn("the engine gave no OVF of VM " + vm.name() + "; the backup has only disks");
      return m;
    }
    Files.writeString(partial.resolve("vm.ovf"), ovf.get(), StandardCharsets.UTF_8);
    return new Manifest(
        m.version(), m.engine(), m.vmId(), m.vmName(), m.backupId(), m.mode(), m.base(),
        m.fromCheckpoint(), m.toCheckpoint(), m.started(), m.ended(), m.state(), "vm.ovf",
        m.disks());
  }

  private static double seconds(long t0) {
    return (System.nanoTime() - t0) / 1e9;
  }
}
