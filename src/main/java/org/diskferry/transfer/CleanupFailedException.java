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
   * @param leftover what is left and how to remove it, e.g. "disk D is left on the engine; run
   *     'diskferry cancel disk-D' to remove it"
   */
  public CleanupFailedException(RuntimeException cause, String leftover) {
    super(
        cause instanceof DiskferryException d ? d.kind() : Kind.FAILED,
        message(cause) + "; " + leftover,
        cause);
  }

  private static String message(Throwable t) {
    String m = t.getMessage();
    return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
  }
}
