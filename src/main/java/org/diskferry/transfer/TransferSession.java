package org.diskferry.transfer;

/**
 * A transfer the platform has opened and is ready to move data: the disk exists, the session is
 * in its transferring phase. Created by a {@link Backend}, driven by the {@link Orchestrator}.
 */
public interface TransferSession {

  String transferId();

  String diskId();

  /** The size in bytes the data plane accepts (the disk's virtual size). */
  long size();

  /** How many connections the server allows in this direction. */
  int maxConnections();

  /** True when the target disk is new and sparse, so it already reads as zeros everywhere. */
  boolean targetReadsAsZeros();

  /** True when diskferry created the target disk for this upload. */
  boolean createdDisk();

  DataChannel data();

  /** Keeps the session alive on the control plane (extend). */
  void heartbeat();

  /**
   * Finishes a successful transfer (finalize and wait; the orchestrator has flushed the data) and
   * returns the final phase.
   */
  String complete(TransferListener listener);

  /**
   * Tries to put the session back in order after the data plane refused it (a paused transfer is
   * resumed, an expired ticket renewed). Returns false when the session cannot move data again.
   */
  boolean recover(TransferListener listener);

  /**
   * Puts the transfer aside so that a later resume can continue it: an upload is paused (the disk
   * stays locked for it), a download is finalized (the disk is unlocked; a resume opens a new
   * transfer).
   */
  void suspend(TransferListener listener);

  /**
   * Ends a failed or interrupted transfer so nothing is left locked: an upload is cancelled (the
   * platform removes the half-written disk), a download is finalized.
   */
  void abort(Throwable cause, TransferListener listener);
}
