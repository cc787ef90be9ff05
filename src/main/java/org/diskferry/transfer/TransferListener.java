package org.diskferry.transfer;

/**
 * Receives what happens during a transfer. The orchestrator never prints: the CLI renders these
 * events as a progress bar, plain log lines or JSON Lines. Implementations must be thread-safe:
 * {@link #progress} is called from worker threads.
 */
public interface TransferListener {

  /** A new step began, e.g. "creating disk", "uploading", "finalizing transfer". */
  default void phase(String phase) {}

  /**
   * Bytes done so far out of the image size. Skipped zero ranges count as done, so the figure is
   * in virtual bytes, as with imageio's own tools.
   */
  default void progress(long transferred, long size) {}

  /** A diagnostic worth showing with {@code -v}. */
  default void info(String message) {}

  /** Something the person should know even without {@code -v}. */
  default void warn(String message) {}

  /** A request failed and is being tried again. */
  default void retry(String what, int attempt, Throwable cause) {}

  /** A listener that ignores everything. */
  TransferListener NONE = new TransferListener() {};
}
