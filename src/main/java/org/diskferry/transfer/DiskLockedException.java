package org.diskferry.transfer;

import org.diskferry.error.DiskferryException;

/**
 * The disk is locked by another transfer or operation on the platform (exit code as for a
 * conflict). Carries the disk id, so that the {@link Orchestrator} can name a suspended transfer
 * of its own that holds the lock.
 */
public final class DiskLockedException extends DiskferryException {

  private final String diskId;

  public DiskLockedException(String diskId, String message) {
    super(Kind.CONFLICT, message);
    this.diskId = diskId;
  }

  public String diskId() {
    return diskId;
  }
}
