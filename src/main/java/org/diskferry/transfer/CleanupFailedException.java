package org.diskferry.transfer;

import org.diskferry.error.DiskferryException;

/**
 * A transfer failed and ending it failed too, so something (a disk, a transfer holding a disk's
 * lock) is left on the platform. The journal that names it must stay, so that {@code status}
 * shows it and {@code cancel} removes it; the message says so.
 */
public final class CleanupFailedException extends DiskferryException {

  /**
   * @param cause what made the transfer fail
   * @param leftover what is left, e.g. "disk D is left on the engine"
   * @param cancelId the id {@code diskferry cancel} removes it with (its journal's)
   */
  public CleanupFailedException(RuntimeException cause, String leftover, String cancelId) {
    super(
        cause instanceof DiskferryException d ? d.kind() : Kind.FAILED,
        message(cause) + "; " + leftover,
        cause);
    transfer(cancelId, Hint.CANCEL);
  }

  private static String message(Throwable t) {
    String m = t.getMessage();
    return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
  }
}
