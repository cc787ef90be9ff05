package org.diskferry.sandbox;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import org.diskferry.error.DiskferryException;

/**
 * The engine's VMs, VM backups and checkpoints (legacy backups of engine 4.5: live when the VM
 * is up, cold when it is down). State is guarded by the sandbox's engine lock; the poller moves
 * backups through their phases, one step per tick.
 *
 * <p>A backup's disks are exposed as they were at its point in time: when it starts, each disk's
 * data is copied (sparsely) beside it, and for a qcow2 disk a new dirty bitmap begins, named by
 * the new checkpoint. Every later write to the disk, by the guest or by an upload, is marked
 * dirty in every bitmap of the disk, so a backup from any checkpoint gets exactly the blocks
 * written since.
 */
final class VmBackups {
  private static final Logger LOG = Logger.getLogger(VmBackups.class.getName());

  private final Sandbox sb;
  private final Path backupsDir;
  final Map<String, Vm> vms = new LinkedHashMap<>();
  final Map<String, Backup> backups = new LinkedHashMap<>();
  /** In creation order: each VM's chain root → leaf. */
  final Map<String, Checkpoint> checkpoints = new LinkedHashMap<>();

  VmBackups(Sandbox sb, Path backupsDir) {
    this.sb = sb;
    this.backupsDir = backupsDir;
  }

  // ---- VMs ----

  /**
   * Creates the configured VMs and their disks (ids are stable per name, so a sandbox started
   * again on the same data directory finds its disks again). Called once at start.
   */
  void create(List<VmSpec> specs) throws IOException {
    synchronized (sb.lock) {
      for (VmSpec spec : specs) {
        String vmId = Sandbox.stableId("vm/" + spec.name());
        if (vms.containsKey(vmId)) {
          throw DiskferryException.badInput("--vm: two VMs are named " + spec.name());
        }
        List<String> diskIds = new ArrayList<>();
        for (int i = 0; i < spec.disks().size(); i++) {
          VmSpec.DiskSpec ds = spec.disks().get(i);
          String name = spec.name() + "-disk" + (i + 1);
          String id = Sandbox.stableId("vm/" + spec.name() + "/disk" + (i + 1));
          Disk d = sb.disks.get(id);
          if (d != null && (d.provisionedSize != ds.size() || !d.format.equals(ds.format()))) {
            throw DiskferryException.badInput("--vm " + spec.name() + ": disk " + name
                + " already exists in the data directory with another size or format");
          }
          if (d == null) {
            d = new Disk(sb.disksDir, id, Sandbox.stableId("vm/" + spec.name() + "/image" + (i + 1)),
                Sandbox.SD_ID, ds.size(), System.currentTimeMillis());
            d.name = name;
            d.format = ds.format();
            d.sparse = true;
            d.contentType = "data";
            d.backup = ds.format().equals("cow") ? "incremental" : "none";
            d.status = "ok";
            d.createFile();
            d.saveMeta();
            sb.disks.put(id, d);
          }
          diskIds.add(id);
        }
        vms.put(vmId, new Vm(vmId, spec.name(), spec.up() ? "up" : "down", diskIds));
      }
    }
  }

  /** The VM, or 404. Must hold the engine lock. */
  Vm vm(String id) {
    Vm vm = vms.get(id);
    if (vm == null) {
      throw ApiException.notFound();
    }
    return vm;
  }

  /** The VM a disk is attached to, or null. Must hold the engine lock. */
  Vm vmOf(String diskId) {
    for (Vm vm : vms.values()) {
      if (vm.diskIds.contains(diskId)) {
        return vm;
      }
    }
    return null;
  }

  /** The VM's backup that has not ended, or null. Must hold the engine lock. */
  Backup running(String vmId) {
    for (Backup b : backups.values()) {
      if (b.vm.id.equals(vmId) && !b.finished()) {
        return b;
      }
    }
    return null;
  }

  // ---- backups ----

  /** POST /vms/ID/backups. Must hold the engine lock. */
  Backup start(Vm vm, String id, String fromCheckpointId, String description, List<String> diskIds) {
    if (description != null && description.length() > 1024) {
      throw ApiException.failed(400, "Cannot backup VM. The description is too long: at most 1024"
          + " characters");
    }
    List<String> disks = new ArrayList<>();
    for (String d : diskIds) {
      String did = d.toLowerCase(Locale.ROOT);
      if (!sb.disks.containsKey(did)) {
        throw ApiException.failed(400, "Cannot backup VM. The following disk(s) ID(s) does not"
            + " exist: " + d + ".");
      }
      if (!vm.diskIds.contains(did)) {
        throw ApiException.failed(409, "Cannot backup VM. The following disks are not active on"
            + " VM " + vm.name + ": " + sb.disks.get(did).name + ".");
      }
      if (!disks.contains(did)) {
        disks.add(did);
      }
    }
    if (running(vm.id) != null) {
      throw ApiException.failed(409, "Cannot backup VM. The VM is during a backup operation.");
    }
    long now = System.nanoTime();
    for (String did : disks) {
      Disk d = sb.disks.get(did);
      if (sb.isLocked(d, now)) {
        throw ApiException.failed(409, "Cannot backup VM. The following disks are locked: "
            + d.name + ". Please try again in a few minutes.");
      }
    }
    if (fromCheckpointId != null) {
      Checkpoint cp = checkpoints.get(fromCheckpointId.toLowerCase(Locale.ROOT));
      if (cp == null || !cp.vmId.equals(vm.id)) {
        throw ApiException.failed(400, "Cannot backup VM. Checkpoint ID " + fromCheckpointId
            + " doesn't exist.");
      }
      fromCheckpointId = cp.id;
    }
    if (id == null) {
      id = java.util.UUID.randomUUID().toString();
    } else if (!ApiSupport.UUID_RE.matcher(id).matches()) {
      throw ApiException.fault(400, "Invalid value", "'" + id + "' is not a valid UUID.");
    } else {
      id = id.toLowerCase(Locale.ROOT);
      if (backups.containsKey(id)) {
        throw ApiException.failed(400, "Cannot backup VM. A VM backup with ID " + id
            + " already exists.");
      }
    }
    Backup b = new Backup(id, vm, disks, fromCheckpointId, description, backupsDir.resolve(id));
    for (String did : disks) {
      Disk d = sb.disks.get(did);
      d.status = "locked";
      d.lockHolder = lockName(b);
    }
    backups.put(id, b);
    LOG.fine(() -> "backup " + b.id + " of VM " + vm.name + " started");
    return b;
  }

  private static String lockName(Backup b) {
    return "backup:" + b.id;
  }

  /**
   * POST …/backups/ID/finalize. Must hold the engine lock. Finalizing before the backup is ready
   * stops it (it ends failed) and answers 400, as the engine does.
   */
  void finalizeBackup(Backup b) {
    if (b.finished() || b.phase.equals("finalizing")) {
      throw ApiException.failed(400, "Cannot stop VM backup. VM '" + b.vm.name + "' backup '"
          + b.id + "' is already in '" + b.phase + "' phase, no need to stop the backup again.");
    }
    List<String> busy = new ArrayList<>();
    for (Transfer t : sb.transfers.values()) {
      if (t.backup == b && !t.finished()) {
        busy.add(t.id);
      }
    }
    if (!busy.isEmpty()) {
      throw ApiException.failed(409, "Cannot stop VM backup. There is an active image transfer for"
          + " VM backup: " + String.join(", ", busy) + ".");
    }
    if (!b.phase.equals("ready")) {
      b.stopped = true;
      String phase = b.phase;
      if (!b.copying) {
        setPhase(b, "finalizing");
      }
      throw ApiException.failed(400, "Cannot stop VM backup. Backup '" + b.id + "' is in '" + phase
          + "' phase, premature backup stop was initiated.");
    }
    setPhase(b, "finalizing");
  }

  private void setPhase(Backup b, String phase) {
    b.phase = phase;
    b.modifiedMillis = System.currentTimeMillis();
    if (b.finished()) {
      b.finishedAtNanos = System.nanoTime();
    }
  }

  /**
   * One poll of every backup: moves each one step on. Returns the backups whose point-in-time
   * copies must now be taken (by {@link #takeCopies}, without the lock). Must hold the lock.
   */
  List<Backup> tick(long now) {
    List<Backup> toCopy = new ArrayList<>();
    for (Backup b : new ArrayList<>(backups.values())) {
      switch (b.phase) {
        case "initializing":
          if (b.stopped) {
            setPhase(b, "finalizing");
          } else if (b.vm.up()) {
            setPhase(b, "starting"); // live: the backup job starts on the host
          } else {
            b.copying = true; // cold: bitmaps added, straight to ready
            toCopy.add(b);
          }
          break;
        case "starting":
          if (!b.copying) {
            b.copying = true;
            toCopy.add(b);
          }
          break;
        case "finalizing":
          end(b, b.stopped ? "failed" : "succeeded");
          break;
        case "succeeded":
        case "failed": {
          Duration keep = b.phase.equals("succeeded")
              ? sb.config.succeededCleanupDelay() : sb.config.failedCleanupDelay();
          if (now - b.finishedAtNanos >= keep.toNanos()) {
            backups.remove(b.id);
          }
          break;
        }
        default: // ready: until finalize
          break;
      }
    }
    return toCopy;
  }

  /** Takes the point-in-time copies of the backups' disks; then they are ready (or failed). */
  void takeCopies(List<Backup> list) {
    for (Backup b : list) {
      Map<String, Disk> copies = new LinkedHashMap<>();
      Map<String, ExtentMap> dirty = new LinkedHashMap<>();
      Map<String, String> modes = new LinkedHashMap<>();
      List<String> cow = new ArrayList<>();
      List<Disk> disks = new ArrayList<>();
      String toCheckpoint = java.util.UUID.randomUUID().toString();
      Checkpoint from;
      synchronized (sb.lock) {
        from = b.fromCheckpointId == null ? null : checkpoints.get(b.fromCheckpointId);
        for (String did : b.diskIds) {
          Disk d = sb.disks.get(did);
          if (d != null) {
            disks.add(d);
          }
        }
      }
      IOException failure = null;
      try {
        Files.createDirectories(b.dir);
        for (Disk d : disks) {
          boolean qcow2 = d.format.equals("cow");
          boolean incremental;
          synchronized (d.bitmaps) {
            incremental = qcow2 && from != null && from.diskIds.contains(d.id)
                && d.bitmaps.containsKey(from.id);
          }
          ExtentMap dm = new ExtentMap();
          copies.put(d.id, d.pointInTimeCopy(b.dir, incremental ? from.id : null, dm,
              qcow2 ? toCheckpoint : null));
          modes.put(d.id, incremental ? "incremental" : "full");
          if (incremental) {
            dirty.put(d.id, dm);
          }
          if (qcow2) {
            cow.add(d.id);
          }
        }
      } catch (IOException e) {
        failure = e;
        LOG.log(Level.WARNING, "backup " + b.id + ": cannot copy the disks", e);
      }
      synchronized (sb.lock) {
        b.copying = false;
        b.copies.putAll(copies);
        b.dirty.putAll(dirty);
        b.modes.putAll(modes);
        if (!cow.isEmpty()) {
          String parent = null;
          for (Checkpoint c : checkpoints.values()) {
            if (c.vmId.equals(b.vm.id)) {
              parent = c.id; // the leaf: the last one created
            }
          }
          checkpoints.put(toCheckpoint, new Checkpoint(toCheckpoint, b.vm.id, parent,
              System.currentTimeMillis(), cow, b.description));
          b.toCheckpointId = toCheckpoint;
        }
        if (failure != null) {
          b.stopped = true;
          setPhase(b, "finalizing");
        } else if (b.stopped) {
          setPhase(b, "finalizing");
        } else {
          setPhase(b, "ready");
        }
      }
    }
  }

  /** Ends a backup: disks unlocked, copies removed; a failed one takes its checkpoint with it. */
  private void end(Backup b, String phase) {
    for (String did : b.diskIds) {
      Disk d = sb.disks.get(did);
      if (d != null && lockName(b).equals(d.lockHolder)) {
        d.lockHolder = null;
        d.status = "ok";
      }
    }
    for (Disk c : b.copies.values()) {
      try {
        c.deleteFiles();
      } catch (IOException e) {
        LOG.log(Level.WARNING, "cannot delete the copy of disk " + c.id, e);
      }
    }
    try {
      Files.deleteIfExists(b.dir);
    } catch (IOException e) {
      LOG.log(Level.FINE, "cannot delete " + b.dir, e);
    }
    if (phase.equals("failed") && b.toCheckpointId != null) {
      removeCheckpoint(checkpoints.get(b.toCheckpointId));
    }
    setPhase(b, phase);
  }

  // ---- checkpoints ----

  /** The VM's checkpoints, root → leaf. Must hold the engine lock. */
  List<Checkpoint> checkpointsOf(String vmId) {
    List<Checkpoint> out = new ArrayList<>();
    for (Checkpoint c : checkpoints.values()) {
      if (c.vmId.equals(vmId)) {
        out.add(c);
      }
    }
    return out;
  }

  /** DELETE /vms/ID/checkpoints/CID. Must hold the engine lock. */
  void deleteCheckpoint(Vm vm, String id) {
    Checkpoint cp = checkpoints.get(id.toLowerCase(Locale.ROOT));
    if (cp == null || !cp.vmId.equals(vm.id)) {
      throw ApiException.notFound();
    }
    if (running(vm.id) != null) {
      throw ApiException.failed(409, "Cannot remove the checkpoint. The VM is during a backup"
          + " operation.");
    }
    removeCheckpoint(cp);
  }

  private void removeCheckpoint(Checkpoint cp) {
    if (cp == null) {
      return;
    }
    for (Checkpoint c : checkpoints.values()) {
      if (cp.id.equals(c.parentId)) {
        c.parentId = cp.parentId;
      }
    }
    checkpoints.remove(cp.id);
    for (String did : cp.diskIds) {
      Disk d = sb.disks.get(did);
      if (d != null) {
        synchronized (d.bitmaps) {
          d.bitmaps.remove(cp.id);
        }
      }
    }
  }
}
