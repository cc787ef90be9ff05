package org.diskferry.transfer;

/** The person (or the system) asked the transfer to stop; the session was ended cleanly. */
public final class TransferInterruptedException extends RuntimeException {
  private final String transferId;

  public TransferInterruptedException(String message, String transferId) {
    super(message);
    this.transferId = transferId;
  }

  /** The transfer that was stopped, or null if none had been created yet. */
  public String transferId() {
    return transferId;
  }
}
