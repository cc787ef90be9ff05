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

  private final EngineClient engine;
  private final String transferId;
  private final Disk disk;
  private final Direction direction;
  private final boolean createdDisk;
  private final boolean readsAsZeros;
  private ImageioClient imageio;
  private int maxConnections = 1;

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

  @Override
  public boolean recover(TransferListener l) {
    Optional<ImageTransfer> t = engine.findTransfer(transferId);
    if (t.isEmpty()) {
      return false;
    }
    TransferPhase p = t.get().phase();
    if (p.isPaused()) {
      if (direction == Direction.DOWNLOAD) {
        return false;
      }
      l.warn("transfer " + transferId + " was " + p.wire() + "; resuming it");
      engine.resumeTransfer(transferId);
    } else if (p == TransferPhase.TRANSFERRING || p == TransferPhase.RESUMING) {
      engine.extendTransfer(transferId);
    } else {
      return false;
    }
    TransferPhase now =
        Poll.until(
            Duration.ofMinutes(2),
            "transfer " + transferId + " to be transferring again",
            () -> {
              TransferPhase q = engine.transfer(transferId).phase();
              if (q == TransferPhase.TRANSFERRING || q.isFinished() || q.isCancelled()) {
                return Optional.of(q);
              }
              return Optional.empty();
            });
    return now == TransferPhase.TRANSFERRING;
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
