package org.diskferry.ovirt;

import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import okhttp3.OkHttpClient;
import org.diskferry.error.DiskferryException;
import org.diskferry.transfer.Backend;
import org.diskferry.transfer.CleanupFailedException;
import org.diskferry.transfer.Direction;
import org.diskferry.transfer.DiskLockedException;
import org.diskferry.transfer.Journal;
import org.diskferry.transfer.TargetGoneException;
import org.diskferry.transfer.TransferListener;
import org.diskferry.transfer.ImageSizing;
import org.diskferry.transfer.TransferRequest;
import org.diskferry.transfer.TransferSession;

/**
 * The oVirt side of a transfer: creates or finds the disk, opens an image transfer, waits until it
 * is transferring, and hands the orchestrator a session over the imageio data plane.
 */
public final class OvirtBackend implements Backend {

  private static final Pattern UUID =
      Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

  /** How long a new disk may take to become ok. */
  static final Duration DISK_READY_TIMEOUT = Duration.ofMinutes(5);

  /** How long a new transfer may take to reach transferring. */
  static final Duration TRANSFER_START_TIMEOUT = Duration.ofMinutes(2);

  private final EngineClient engine;
  private final OkHttpClient http;

  public OvirtBackend(EngineClient engine, OkHttpClient http) {
    this.engine = engine;
    this.http = http;
  }

  public EngineClient engine() {
    return engine;
  }

  /** True when the text is a UUID, as engine ids are. */
  public static boolean isUuid(String s) {
    return s != null && UUID.matcher(s).matches();
  }

  @Override
  public TransferSession openUpload(
      TransferRequest req,
      ImageSizing sizing,
      TransferListener l,
      Consumer<String> diskCreated,
      Consumer<TransferSession> created) {
    long imageSize = sizing.virtualSize();
    Disk disk;
    if (req.disk() != null) {
      disk = engine.disk(req.disk());
      checkUsable(disk);
      if (disk.provisionedSize() < imageSize) {
        throw DiskferryException.badInput(
            "the image ("
                + imageSize
                + " bytes) is larger than disk "
                + disk.id()
                + " ("
                + disk.provisionedSize()
                + " bytes)");
      }
    } else {
      if (req.storageDomain() == null || req.storageDomain().isBlank()) {
        throw DiskferryException.badInput(
            "a new disk needs a storage domain: use -s/--storage-domain or"
                + " DISKFERRY_STORAGE_DOMAIN");
      }
      StorageDomain sd = engine.storageDomain(req.storageDomain());
      String hostId = req.host() == null ? null : engine.host(req.host()).id();
      checkNameFree(req.name(), l);
      l.phase("creating disk");
      String format = "qcow2".equalsIgnoreCase(req.format()) ? "cow" : "raw";
      boolean sparse = !req.preallocated();
      disk =
          engine.createDisk(
              new DiskSpec(
                  req.name(),
                  req.description() != null ? req.description() : "Uploaded by diskferry",
                  sd.name(),
                  format,
                  sparse,
                  imageSize,
                  "cow".equals(format) && sparse ? sizing.initialSize() : null,
                  sizing.contentType(),
                  null));
      l.info("created disk " + disk.id());
      try {
        diskCreated.accept(disk.id());
        l.phase("waiting for disk");
        disk = engine.waitForDiskOk(disk.id(), DISK_READY_TIMEOUT);
        return open(req, disk, Direction.UPLOAD, hostId, true, sparse, l, created);
      } catch (CleanupFailedException e) {
        throw e; // its transfer holds the disk: cancelling that transfer removes both
      } catch (RuntimeException e) {
        if (!removeQuietly(disk.id(), l)) {
          throw new CleanupFailedException(
              e, "disk " + disk.id() + " is left on the engine", Journal.pendingId(disk.id()));
        }
        throw e;
      }
    }
    String hostId = req.host() == null ? null : engine.host(req.host()).id();
    return open(req, disk, Direction.UPLOAD, hostId, false, false, l, created);
  }

  @Override
  public TransferSession openDownload(
      TransferRequest req, TransferListener l, Consumer<TransferSession> created) {
    Disk disk = findDisk(req.disk());
    checkUsable(disk);
    org.diskferry.transfer.LocalImage.checkFormatFits(req.format(), disk.provisionedSize(), disk.id());
    String hostId = req.host() == null ? null : engine.host(req.host()).id();
    return open(req, disk, Direction.DOWNLOAD, hostId, false, false, l, created);
  }

  /**
   * A new disk's name that other disks already have makes every later download by that name
   * ambiguous: a warning, or with {@link #uniqueNames} a refusal before anything is created.
   */
  private void checkNameFree(String name, TransferListener l) {
    if (name == null || name.isBlank()) {
      return;
    }
    List<Disk> same = engine.disksByName(name);
    if (same.isEmpty()) {
      return;
    }
    String ids = String.join(", ", same.stream().map(Disk::id).limit(10).toList())
        + (same.size() > 10 ? ", ..." : "");
    String what = same.size() + (same.size() == 1 ? " disk is" : " disks are") + " already named '"
        + name + "' (" + ids + ")";
    if (uniqueNames) {
      throw DiskferryException.conflict(
          what + "; choose another --name, or leave out --unique-name to add one more");
    }
    l.warn(what + "; a download by that name will be ambiguous (--unique-name refuses instead)");
  }

  private boolean uniqueNames;

  /** Refuse to create a disk whose name another disk has ({@code --unique-name}). */
  public OvirtBackend uniqueNames(boolean on) {
    this.uniqueNames = on;
    return this;
  }

  /** A disk by id, or by name when the name is unique. */
  public Disk findDisk(String idOrName) {
    if (idOrName == null || idOrName.isBlank()) {
      throw DiskferryException.badInput("no disk given");
    }
    if (isUuid(idOrName)) {
      return engine.disk(idOrName.toLowerCase(Locale.ROOT));
    }
    List<Disk> found = engine.disksByName(idOrName);
    if (found.isEmpty()) {
      throw DiskferryException.notFound("disk '" + idOrName + "' not found");
    }
    if (found.size() > 1) {
      List<String> ids = found.stream().map(Disk::id).limit(10).toList();
      throw DiskferryException.badInput(
          found.size() + " disks are named '" + idOrName + "' (" + String.join(", ", ids)
              + (found.size() > ids.size() ? ", ..." : "") + "); give the disk id instead");
    }
    return found.get(0);
  }

  private static void checkUsable(Disk disk) {
    if ("locked".equals(disk.status())) {
      throw new DiskLockedException(
          disk.id(),
          "disk "
              + disk.id()
              + " is locked (another transfer or operation is using it); try again later");
    }
    if ("illegal".equals(disk.status())) {
      throw DiskferryException.conflict("disk " + disk.id() + " is illegal and cannot be used");
    }
  }

  private TransferSession open(
      TransferRequest req,
      Disk disk,
      Direction direction,
      String hostId,
      boolean createdDisk,
      boolean readsAsZeros,
      TransferListener l,
      Consumer<TransferSession> created) {
    l.phase("creating transfer");
    ImageTransfer t =
        engine.createTransfer(
            new TransferSpec(
                disk.id(), direction.wire(), hostId, req.inactivityTimeout(), req.timeoutPolicy()));
    l.info("created image transfer " + t.id());
    OvirtSession session =
        new OvirtSession(engine, t.id(), disk, direction, createdDisk, readsAsZeros);
    session.replacement(s -> replace(s, req, hostId, l));
    try {
      created.accept(session);
    } catch (RuntimeException e) {
      throw abort(session, e, l);
    }
    return attach(session, t, req, l);
  }

  /**
   * Continues a session in a new transfer on its disk after the engine ended its transfer (a
   * download whose ticket the host lost goes to cancelled_system). If the new transfer does not
   * start, it is ended and the failure thrown.
   */
  private void replace(OvirtSession session, TransferRequest req, String hostId, TransferListener l) {
    ImageTransfer t =
        engine.createTransfer(
            new TransferSpec(
                session.diskId(), session.direction().wire(), hostId, req.inactivityTimeout(),
                req.timeoutPolicy()));
    OvirtSession next =
        new OvirtSession(
            engine, t.id(), session.disk(), session.direction(), session.createdDisk(),
            session.targetReadsAsZeros());
    attach(next, t, req, l);
    session.replace(t.id(), next.imageio());
  }

  /** Waits until the transfer moves data and connects the session to its data plane. */
  private TransferSession attach(
      OvirtSession session, ImageTransfer t, TransferRequest req, TransferListener l) {
    try {
      t = waitTransferring(t);
      ImageioClient imageio =
          new ImageioClient(http, t.transferUrl(), t.proxyUrl(), req.useProxy());
      ImageioOptions opts = options(imageio, t.id());
      session.attach(
          imageio,
          session.direction() == Direction.UPLOAD ? opts.maxWriters() : opts.maxReaders());
      return session;
    } catch (RuntimeException e) {
      throw abort(session, e, l);
    }
  }

  /**
   * Ends a session that could not be opened; returns what to throw: the failure itself, or, when
   * ending the session failed too, a {@link CleanupFailedException} that keeps its journal.
   */
  private static RuntimeException abort(
      OvirtSession session, RuntimeException failure, TransferListener l) {
    try {
      session.abort(failure, l);
      return failure;
    } catch (RuntimeException e) {
      l.warn("could not clean up transfer " + session.transferId() + ": " + e.getMessage());
      return new CleanupFailedException(
          failure, "transfer " + session.transferId() + " is left on the engine",
          session.transferId());
    }
  }

  /** OPTIONS on the data plane, tried a few times: a server that is busy now may not be later. */
  private static ImageioOptions options(ImageioClient imageio, String transferId) {
    java.io.IOException last = null;
    for (int attempt = 0; attempt < OPTIONS_ATTEMPTS; attempt++) {
      try {
        return imageio.options();
      } catch (java.io.IOException e) {
        last = e;
        try {
          Thread.sleep(200L << attempt);
        } catch (InterruptedException ie) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    throw DiskferryException.failed(
        "cannot reach the imageio data plane of transfer " + transferId + ": "
            + last.getMessage());
  }

  /** Tries of the first data-plane request before a transfer is given up. */
  static final int OPTIONS_ATTEMPTS = 4;

  @Override
  public String endpoint() {
    return engine.engineUrl();
  }

  @Override
  public TransferSession reopen(
      Journal j, TransferRequest req, TransferListener l, Consumer<TransferSession> created) {
    // A pending journal: the upload created its disk but was stopped before any transfer.
    Optional<ImageTransfer> found =
        j.pending() ? Optional.empty() : engine.findTransfer(j.transferId());
    if (found.isPresent()) {
      ImageTransfer t = found.get();
      TransferPhase p = t.phase();
      if (p == TransferPhase.FINALIZING_SUCCESS) {
        p = waitSettled(j.transferId());
      }
      if (p == TransferPhase.FINISHED_SUCCESS && j.direction() == Direction.UPLOAD) {
        // Only diskferry finalizes an upload, and only after all its data was flushed.
        return null;
      }
      boolean live =
          p == TransferPhase.TRANSFERRING
              || p == TransferPhase.RESUMING
              || p == TransferPhase.INITIALIZING
              || p.isPaused();
      if (live && j.direction() == Direction.UPLOAD) {
        if (p.isPaused()) {
          l.info("resuming paused transfer " + t.id());
          engine.resumeTransfer(t.id());
          t = engine.transfer(t.id());
        }
        Disk disk = engine.disk(j.diskId());
        return attach(
            new OvirtSession(
                engine, t.id(), disk, Direction.UPLOAD, j.createdDisk(), j.readsAsZeros()),
            t,
            req,
            l);
      }
      if (live) {
        // A download session cannot be paused; end it and open a fresh one below.
        engine.finalizeTransfer(t.id());
      }
      waitSettled(t.id());
    }
    Disk disk =
        engine
            .waitUntilUnlocked(j.diskId(), OvirtSession.CANCEL_TIMEOUT)
            .orElseThrow(
                () ->
                    new TargetGoneException(
                        "disk " + j.diskId() + " no longer exists (the engine removes the disk of"
                            + " a cancelled or failed upload); transfer " + j.transferId()
                            + " cannot be resumed: start it again"));
    checkUsable(disk);
    String hostId = req.host() == null ? null : engine.host(req.host()).id();
    return open(
        req, disk, j.direction(), hostId, j.createdDisk(), j.readsAsZeros(), l, created);
  }

  /** Waits until a transfer is finished, or gone; returns its last phase. */
  private TransferPhase waitSettled(String id) {
    return Poll.until(
        OvirtSession.CANCEL_TIMEOUT,
        "transfer " + id + " to finish",
        () -> {
          Optional<ImageTransfer> t = engine.findTransfer(id);
          if (t.isEmpty()) {
            return Optional.of(TransferPhase.UNKNOWN);
          }
          return t.get().phase().isFinished() ? Optional.of(t.get().phase()) : Optional.empty();
        });
  }

  private ImageTransfer waitTransferring(ImageTransfer first) {
    String id = first.id();
    ImageTransfer[] last = {first};
    return Poll.until(
        TRANSFER_START_TIMEOUT,
        "transfer " + id + " to start transferring",
        () -> {
          ImageTransfer t = last[0] != null ? last[0] : engine.transfer(id);
          last[0] = null;
          TransferPhase p = t.phase();
          if (p == TransferPhase.TRANSFERRING) {
            return Optional.of(t);
          }
          if (p == TransferPhase.INITIALIZING
              || p == TransferPhase.RESUMING
              || p == TransferPhase.UNKNOWN) {
            return Optional.empty();
          }
          throw DiskferryException.failed(
              "transfer "
                  + id
                  + " did not start: the engine moved it to "
                  + p.wire()
                  + (p == TransferPhase.PAUSED_SYSTEM
                      ? " (the host could not start the data plane; is ovirt-imageio running?)"
                      : ""));
        });
  }

  /** Removes a disk this upload created; false (after a warning) when that failed. */
  private boolean removeQuietly(String diskId, TransferListener l) {
    try {
      engine.deleteDisk(diskId);
      l.info("removed disk " + diskId);
      return true;
    } catch (DiskferryException e) {
      if (e.kind() == DiskferryException.Kind.NOT_FOUND) {
        return true;
      }
      l.warn("could not remove disk " + diskId + ": " + e.getMessage());
    } catch (RuntimeException e) {
      l.warn("could not remove disk " + diskId + ": " + e.getMessage());
    }
    return false;
  }

  @Override
  public void close() {
    engine.close();
  }

  /**
   * A download session on a transfer the engine has created already (a VM backup's, see {@link
   * VmBackups#createTransfer}): waits until it is transferring and connects its data plane. The
   * transfer is finalized if that fails.
   */
  OvirtSession attachDownload(ImageTransfer t, Disk disk, TransferRequest req, TransferListener l) {
    l.info("created image transfer " + t.id());
    OvirtSession session = new OvirtSession(engine, t.id(), disk, Direction.DOWNLOAD, false, false);
    attach(session, t, req, l);
    return session;
  }
}
