package org.diskferry.transfer;

/** The person (or the system) asked the transfer to stop; the session was ended cleanly. */
public final class TransferInterruptedException extends RuntimeException {
  private final String transferId;
  private final boolean resumable;

  public TransferInterruptedException(String message, String transferId) {
    this(message, transferId, false);
  }

  /**
   * @param resumable the transfer was suspended with its journal kept, so {@code diskferry
   *     resume} continues it
   */
  public TransferInterruptedException(String message, String transferId, boolean resumable) {
    super(message);
    this.transferId = transferId;
    this.resumable = resumable;
  }

  /** True when the transfer was suspended and {@code diskferry resume} continues it. */
  public boolean resumable() {
    return resumable;
  }

  /** The transfer that was stopped, or null if none had been created yet. */
  public String transferId() {
    return transferId;
  }
}
