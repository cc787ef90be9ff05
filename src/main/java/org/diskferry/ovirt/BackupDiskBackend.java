package org.diskferry.ovirt;

import java.util.function.Consumer;
import org.diskferry.error.DiskferryException;
import org.diskferry.transfer.Backend;
import org.diskferry.transfer.ImageSizing;
import org.diskferry.transfer.Journal;
import org.diskferry.transfer.TransferListener;
import org.diskferry.transfer.TransferRequest;
import org.diskferry.transfer.TransferSession;

/**
 * Opens the download sessions of one VM backup's disks: each an image transfer with {@code disk}
 * and {@code backup}, format raw, so the orchestrator moves it like any download. Its sessions
 * are {@link org.diskferry.transfer.ChangedBlocks} for the dirty extents of an incremental disk.
 * The engine client belongs to the caller: {@link #close} leaves it open.
 */
public final class BackupDiskBackend implements Backend {

  private final OvirtBackend ovirt;
  private final VmBackups backups;
  private final String backupId;

  public BackupDiskBackend(OvirtBackend ovirt, VmBackups backups, String backupId) {
    this.ovirt = ovirt;
    this.backups = backups;
    this.backupId = backupId;
  }

  /** Opens a download of the disk {@code request.disk()} (an id) of the backup. */
  @Override
  public TransferSession openDownload(
      TransferRequest req, TransferListener l, Consumer<TransferSession> created) {
    Disk disk = ovirt.engine().disk(req.disk());
    String hostId = req.host() == null ? null : ovirt.engine().host(req.host()).id();
    l.phase("creating transfer");
    ImageTransfer t = backups.createTransfer(disk.id(), backupId, hostId, req.inactivityTimeout());
    OvirtSession session = ovirt.attachDownload(t, disk, req, l);
    try {
      created.accept(session);
    } catch (RuntimeException e) {
      session.abort(e, l);
      throw e;
    }
    return session;
  }

  @Override
  public TransferSession openUpload(
      TransferRequest request,
      ImageSizing sizing,
      TransferListener listener,
      Consumer<String> diskCreated,
      Consumer<TransferSession> created) {
    throw new UnsupportedOperationException("a backup only downloads");
  }

  @Override
  public TransferSession reopen(
      Journal journal,
      TransferRequest request,
      TransferListener listener,
      Consumer<TransferSession> created) {
    throw DiskferryException.failed(
        "transfer " + journal.transferId() + " belonged to backup " + backupId
            + ", which has ended: run the backup again");
  }

  @Override
  public String endpoint() {
    return ovirt.endpoint();
  }

  @Override
  public void close() {}
}
