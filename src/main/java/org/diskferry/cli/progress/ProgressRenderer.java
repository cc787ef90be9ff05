package org.diskferry.cli.progress;

import org.diskferry.transfer.TransferListener;

/**
 * A {@link TransferListener} that draws on stderr and must be closed when the command ends, so that
 * a progress bar is finished with a newline and buffered lines are flushed. Closing twice is
 * harmless.
 */
public interface ProgressRenderer extends TransferListener, AutoCloseable {

  @Override
  default void close() {}
}
