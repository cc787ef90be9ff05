package org.diskferry.transfer;

import org.diskferry.error.DiskferryException;

/**
 * The disk (or image) of a journal no longer exists on the platform, so nothing can continue the
 * transfer: for example the engine removed the disk when an upload was cancelled. Exit code as
 * for "not found".
 */
public final class TargetGoneException extends DiskferryException {
  private static final long serialVersionUID = 1L;

  public TargetGoneException(String message) {
    super(Kind.NOT_FOUND, message);
  }
}
