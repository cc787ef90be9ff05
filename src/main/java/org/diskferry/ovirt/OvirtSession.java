package org.diskferry.ovirt;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.diskferry.error.DiskferryException;
import org.diskferry.transfer.ChangedBlocks;
import org.diskferry.transfer.DataChannel;
import org.diskferry.transfer.Direction;
import org.diskferry.transfer.TransferListener;
import org.diskferry.transfer.TransferSession;
import org.diskferry.transfer.UncachedFile;

/** One oVirt image transfer in its transferring phase, with its imageio data plane. */
final class OvirtSession implements TransferSession, DataChannel, ChangedBlocks {

  /** How long finalize may take to reach finished_success. */
  static final Duration FINALIZE_TIMEOUT = Duration.ofMinutes(10);

  /** How long a cancel may take to clean up. */
  static final Duration CANCEL_TIMEOUT = Duration.ofMinutes(2);

  /**
   * Opens a new transfer on the session's disk when the engine ended the one it had; null when
   * none may be opened.
   */
  interface Replacement {
    /** Creates the transfer, waits until it is transferring and {@link #replace}s into it. */
    void open(OvirtSession session);
  }

  private final EngineClient engine;
  private volatile String transferId;
  private final Disk disk;
  private final Direction direction;
  private final boolean createdDisk;
  private final boolean readsAsZeros;
  private volatile ImageioClient imageio;
  private int maxConnections = 1;
  private Replacement replacement;
  private int replacements;

  /** New transfers a session may continue in, after the engine ended the one before. */
  static final int MAX_REPLACEMENTS = 3;

  OvirtSession(
      EngineClient engine,
      String transferId,
      Disk disk,
      Direction direction,
      boolean createdDisk,
      boolean readsAsZeros) {
    this.engine = engine;
    this.transferId = transferId;
    this.disk = disk;
    this.direction = direction;
    this.createdDisk = createdDisk;
    this.readsAsZeros = readsAsZeros;
  }

  void attach(ImageioClient imageio, int maxConnections) {
    this.imageio = imageio;
    this.maxConnections = Math.max(1, maxConnections);
  }

  /** How to continue in a new transfer when the engine ends this one (see {@link #recover}). */
  void replacement(Replacement r) {
    this.replacement = r;
  }

  /** Moves the session to a new transfer on the same disk, with its own data plane. */
  void replace(String newTransferId, ImageioClient newImageio) {
    ImageioClient old = imageio;
    this.transferId = newTransferId;
    this.imageio = newImageio;
    if (old != null) {
      old.close();
    }
  }

  @Override
  public String transferId() {
    return transferId;
  }

  @Override
  public String diskId() {
    return disk.id();
  }

  @Override
  public long size() {
    return disk.provisionedSize();
  }

  @Override
  public int maxConnections() {
    return maxConnections;
  }

  @Override
  public boolean targetReadsAsZeros() {
    return readsAsZeros;
  }

  @Override
  public boolean createdDisk() {
    return createdDisk;
  }

  Direction direction() {
    return direction;
  }

  Disk disk() {
    return disk;
  }

  ImageioClient imageio() {
    return imageio;
  }

  /**
   * Puts the session back in order after the data plane refused it: a paused upload is resumed, a
   * running transfer extended (its ticket renewed). A transfer the engine ended, or cannot resume
   * (a download's session cannot be paused and resumed), is replaced by a new transfer on the same
   * disk when the disk is still there, so the ranges not done yet move in the same run.
   */
  @Override
  public boolean recover(TransferListener l) {
    Optional<ImageTransfer> t = engine.findTransfer(transferId);
    TransferPhase p = t.map(ImageTransfer::phase).orElse(TransferPhase.UNKNOWN);
    if (t.isEmpty() || (p.isPaused() && direction == Direction.DOWNLOAD)) {
      return replace(t.isEmpty() ? "gone" : p.wire(), l);
    }
    if (p.isPaused()) {
      l.warn("transfer " + transferId + " was " + p.wire() + "; resuming it");
      engine.resumeTransfer(transferId);
    } else if (p == TransferPhase.TRANSFERRING || p == TransferPhase.RESUMING) {
      engine.extendTransfer(transferId);
    } else if (p == TransferPhase.INITIALIZING || p == TransferPhase.UNKNOWN) {
      return false;
    } else {
      return replace(p.wire(), l);
    }
    TransferPhase now = awaitTransferring();
    if (now.isPaused() && direction == Direction.UPLOAD) {
      // Paused by the engine while we waited (it lost the ticket again): resume it once more.
      l.warn("transfer " + transferId + " was " + now.wire() + "; resuming it");
      engine.resumeTransfer(transferId);
      now = awaitTransferring();
    }
    if (now == TransferPhase.TRANSFERRING) {
      return true;
    }
    if (now.isPaused() && direction == Direction.UPLOAD) {
      return false; // still paused: the suspend that follows keeps it for resume
    }
    // Ended meanwhile (a ticket the host lost makes the engine cancel a download).
    return replace(now == TransferPhase.UNKNOWN ? "gone" : now.wire(), l);
  }

  /**
   * Polls until the transfer is transferring again, or paused, ended or gone (UNKNOWN): whatever
   * it is then, waiting longer would not change it.
   */
  private TransferPhase awaitTransferring() {
    return Poll.until(
        Duration.ofMinutes(2),
        "transfer " + transferId + " to be transferring again",
        () -> {
          Optional<ImageTransfer> found = engine.findTransfer(transferId);
          if (found.isEmpty()) {
            return Optional.of(TransferPhase.UNKNOWN);
          }
          TransferPhase q = found.get().phase();
          if (q == TransferPhase.TRANSFERRING
              || q.isPaused()
              || q.isFinished()
              || q.isCancelled()) {
            return Optional.of(q);
          }
          return Optional.empty();
        });
  }

  /**
   * Waits until the engine has ended the transfer, then opens a new one on the same disk. False
   * when that cannot be done: no replacement allowed, or the disk is gone (the engine removes the
   * disk of a failed upload) or unusable.
   */
  private boolean replace(String phase, TransferListener l) {
    String old = transferId;
    if (replacement == null || replacements >= MAX_REPLACEMENTS) {
      if (replacement != null) {
        l.warn(
            "the engine ended transfer " + old + " (" + phase + "), the " + (replacements + 1)
                + "th in this run; not opening another");
      }
      return false;
    }
    replacements++;
    closeImageio();
    if (phase.startsWith("paused")) {
      engine.finalizeTransfer(old);
    }
    if (!phase.equals("gone")) {
      waitFinished(CANCEL_TIMEOUT, "transfer " + old + " to finish");
    }
    Optional<Disk> d = engine.waitUntilUnlocked(disk.id(), CANCEL_TIMEOUT);
    if (d.isEmpty() || d.get().isIllegal()) {
      l.warn(
          "the engine ended transfer " + old + " (" + phase + ") and disk " + disk.id()
              + (d.isEmpty() ? " is gone" : " is illegal") + "; it cannot be continued");
      return false;
    }
    l.warn(
        "the engine ended transfer " + old + " (" + phase + "); continuing in a new transfer on"
            + " disk " + disk.id());
    replacement.open(this);
    l.info("continuing in new transfer " + transferId);
    return true;
  }

  @Override
  public void suspend(TransferListener l) {
    closeImageio();
    if (direction == Direction.UPLOAD) {
      l.phase("pausing transfer");
      engine.pauseTransfer(transferId);
      return;
    }
    l.phase("finalizing transfer");
    engine.finalizeTransfer(transferId);
    waitFinished(CANCEL_TIMEOUT, "transfer " + transferId + " to finish");
  }

  @Override
  public DataChannel data() {
    return this;
  }

  @Override
  public void heartbeat() {
    engine.extendTransfer(transferId);
  }

  @Override
  public String complete(TransferListener l) {
    closeImageio();
    engine.finalizeTransfer(transferId);
    TransferPhase end = waitFinished(FINALIZE_TIMEOUT, "transfer " + transferId + " to finish");
    if (end != TransferPhase.FINISHED_SUCCESS) {
      throw DiskferryException.failed(
          "the engine failed transfer "
              + transferId
              + " ("
              + end.wire()
              + ")"
              + (direction == Direction.UPLOAD ? "; the disk was removed" : ""));
    }
    return end.wire();
  }

  @Override
  public void abort(Throwable cause, TransferListener l) {
    closeImageio();
    if (direction == Direction.DOWNLOAD) {
      l.phase("finalizing transfer");
      engine.finalizeTransfer(transferId);
      waitFinished(CANCEL_TIMEOUT, "transfer " + transferId + " to finish");
      return;
    }
    l.phase("cancelling transfer");
    engine.cancelTransfer(transferId);
    waitFinished(CANCEL_TIMEOUT, "transfer " + transferId + " to be cancelled");
    if (createdDisk) {
      // The engine removes the disk of a cancelled upload; wait until it is really gone.
      Poll.until(
          CANCEL_TIMEOUT,
          "disk " + disk.id() + " to be removed",
          () -> engine.findDisk(disk.id()).isPresent() ? Optional.empty() : Optional.of(true));
    }
  }

  /**
   * Polls until the transfer is finished. A 404 means the row is gone (engines before 4.4.7 remove
   * it at once): the disk status then tells how it ended.
   */
  private TransferPhase waitFinished(Duration timeout, String what) {
    return Poll.until(
        timeout,
        what,
        () -> {
          Optional<ImageTransfer> t = engine.findTransfer(transferId);
          if (t.isEmpty()) {
            Optional<Disk> d = engine.findDisk(disk.id());
            boolean ok = d.isPresent() && "ok".equals(d.get().status());
            return Optional.of(ok ? TransferPhase.FINISHED_SUCCESS : TransferPhase.FINISHED_FAILURE);
          }
          TransferPhase p = t.get().phase();
          return p == TransferPhase.FINISHED_SUCCESS || p == TransferPhase.FINISHED_FAILURE
              ? Optional.of(p)
              : Optional.empty();
        });
  }

  private void closeImageio() {
    if (imageio != null) {
      imageio.close();
    }
  }

  // DataChannel over imageio

  @Override
  public void write(long offset, ByteBuffer data) throws IOException {
    imageio.write(offset, data);
  }

  @Override
  public void zero(long offset, long length) throws IOException {
    imageio.zero(offset, length);
  }

  @Override
  public void flush() throws IOException {
    imageio.flush();
  }

  @Override
  public void read(long offset, long length, UncachedFile dst, long dstOffset, ByteBuffer buffer)
      throws IOException {
    imageio.read(offset, length, dst, dstOffset, buffer);
  }

  @Override
  public Optional<List<Extent>> extents() throws IOException {
    return imageio
        .extents()
        .map(
            list ->
                list.stream()
                    .map(e -> new DataChannel.Extent(e.start(), e.length(), e.zero()))
                    .toList());
  }

  @Override
  public Optional<String> checksum() throws IOException {
    return imageio
        .checksum("blake2b", (long) org.diskferry.image.BlockHash.DEFAULT_BLOCK_SIZE)
        .map(ImageChecksum::checksum);
  }

  @Override
  public void abortReads() {
    if (imageio != null) {
      imageio.abortReads();
    }
  }

  @Override
  public void keepAlive() throws IOException {
    imageio.keepAlive();
  }

  /** What changed since the checkpoint, for the disk of an incremental backup. */
  @Override
  public List<ChangedBlocks.Change> changes() throws IOException {
    return imageio
        .dirtyExtents()
        .orElseThrow(
            () ->
                new IOException(
                    "the data plane of transfer " + transferId + " has no dirty extents (is the"
                        + " disk's backup_mode incremental?)"))
        .stream()
        .map(e -> new ChangedBlocks.Change(e.start(), e.length(), e.dirty(), e.zero()))
        .toList();
  }
}
