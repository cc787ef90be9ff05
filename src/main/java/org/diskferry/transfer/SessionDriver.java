package org.diskferry.transfer;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.util.List;
import org.diskferry.error.DiskferryException;
import org.diskferry.image.BlockHash;
import org.diskferry.image.ImageReader;
import org.diskferry.image.PaddedReader;

/**
 * Takes an open session to its end, the same way for both directions: the ranges left move through
 * the {@link WorkerPool} while a {@link JournalKeeper} records them, then the session is completed.
 * On failure it is suspended when it can be resumed (its journal kept), else ended for good. The
 * {@link Orchestrator} only opens sessions and says what the ranges and their work are.
 */
final class SessionDriver {

  private final TransferListener listener;
  private final JournalStore journals;
  private final boolean cancelOnInterrupt;
  private final WorkerPool pool;
  private boolean verify;
  private String checksum;

  /**
   * @param journals where to keep resume journals, or null to keep none
   * @param cancelOnInterrupt end the transfer for good when interrupted, even with journals
   */
  SessionDriver(
      TransferListener listener,
      JournalStore journals,
      boolean cancelOnInterrupt,
      WorkerPool pool) {
    this.listener = listener;
    this.journals = journals;
    this.cancelOnInterrupt = cancelOnInterrupt;
    this.pool = pool;
  }

  /** True when an interrupted session is suspended for a resume rather than ended for good. */
  boolean suspendsOnInterrupt() {
    return !cancelOnInterrupt;
  }

  /** Turns the comparison of {@link #verify} on or off ({@code --verify}). */
  void verifyChecksums(boolean on) {
    this.verify = on;
  }

  boolean verifiesChecksums() {
    return verify;
  }

  TransferResult drive(
      TransferSession session,
      Journal journal,
      List<Range> todo,
      WorkerPool.RangeWork work,
      TransferRequest req,
      long started,
      FileChannel localSync,
      Runnable beforeComplete) {
    return drive(
        session, journal, todo, work, req, started, localSync, beforeComplete, () -> {},
        () -> {});
  }

  /** The bytes a transfer covers: the planned ranges plus what a journal says was done. */
  private static long covered(List<Range> todo, Journal journal) {
    long end = 0;
    for (Range r : todo) {
      end = Math.max(end, r.end());
    }
    for (long[] d : journal.done()) {
      end = Math.max(end, d[1]);
    }
    return end;
  }

  /**
   * Moves {@code todo} and completes the session; on failure suspends it (resumable) or ends it
   * (not resumable), keeping the journal only in the first case.
   */
  TransferResult drive(
      TransferSession session,
      Journal journal,
      List<Range> todo,
      WorkerPool.RangeWork work,
      TransferRequest req,
      long started,
      FileChannel localSync,
      Runnable beforeComplete,
      Runnable afterComplete,
      Runnable onAbort) {
    pool.current(session);
    boolean upload = journal.direction() == Direction.UPLOAD;
    long size = upload ? covered(todo, journal) : session.size();
    JournalKeeper keeper =
        journals == null
            ? null
            : new JournalKeeper(
                journals,
                journal,
                upload
                    ? () -> pool.withRetries("flush", () -> session.data().flush())
                    : () -> localSync.force(false),
                listener);
    boolean completed = false;
    // A session the platform ended may continue in a new transfer: its journal follows it.
    pool.afterRecovery(keeper == null ? null : () -> keeper.moveTo(session.transferId()));
    try {
      if (keeper != null) {
        keeper.save();
      }
      pool.checkInterrupted(session);
      // An upload's journal checkpoints flush on a connection of their own: leave one of the
      // server's connections free for it, or the flush waits behind the workers (with qemu-nbd
      // behind imageio a connection over the limit hangs rather than being refused).
      int connections = session.maxConnections();
      if (upload && keeper != null && connections > 1) {
        connections--;
      }
      int workers = Math.max(1, Math.min(req.workers(), connections));
      listener.phase(upload ? "uploading" : "downloading");
      long dataStarted = System.nanoTime();
      long moved =
          pool.moveRanges(session, todo, journal.bytesDone(), workers, req, work, keeper);
      double dataSeconds = seconds(dataStarted);
      pool.checkInterrupted(session);
      listener.phase("finalizing transfer");
      if (upload) {
        pool.withRetries("flush", () -> session.data().flush());
      }
      beforeComplete.run();
      String phase = session.complete(listener);
      completed = true;
      afterComplete.run();
      if (keeper != null) {
        keeper.delete();
      }
      listener.phase((upload ? "upload" : "download") + " completed");
      return new TransferResult(
          journal.direction(), session.transferId(), session.diskId(), phase, size,
          moved, seconds(started), workers, pool.retries(), checksum, journal.bytesDone(),
          dataSeconds);
    } catch (TransferInterruptedException e) {
      if (keeper != null && !cancelOnInterrupt) {
        suspend(session, keeper);
        throw new TransferInterruptedException(
            pool.interruptReason() + "; transfer " + session.transferId() + " is suspended",
            session.transferId(),
            true);
      }
      end(session, keeper, e, onAbort);
      throw e;
    } catch (WorkerPool.RetriesExhausted e) {
      if (keeper != null && !cancelOnInterrupt) {
        suspend(session, keeper);
        throw DiskferryException.transientFailure(
            "transfer " + session.transferId() + ": " + e.getMessage(),
            e)
            .transfer(session.transferId());
      }
      end(session, keeper, e, onAbort);
      throw DiskferryException.failed(
          "transfer " + session.transferId() + " failed while moving data: " + e.getMessage()
              + (e.getCause() instanceof java.net.SocketException
                  ? " (the data connection to the server was lost)"
                  : ""));
    } catch (RuntimeException | Error e) {
      if (completed) {
        // The platform finished the transfer; only the local step after it failed (a target
        // that appeared meanwhile): the data stays where the error says, nothing to resume.
        if (keeper != null) {
          keeper.delete();
        }
        throw e;
      }
      end(session, keeper, e, onAbort);
      throw e;
    } finally {
      pool.current(null);
      pool.afterRecovery(null);
    }
  }

  /**
   * With {@code --verify}: the server's blkhash of the disk against the same hash of the local
   * image (one more read of the data on each side). Throws on a mismatch.
   */
  void verify(TransferSession session, ImageReader local) {
    if (!verify) {
      return;
    }
    listener.phase("verifying checksum");
    String remote;
    String mine;
    try {
      remote =
          session
              .data()
              .checksum()
              .orElseThrow(
                  () ->
                      DiskferryException.failed(
                          "--verify: the server of transfer " + session.transferId()
                              + " cannot compute checksums"));
      // A disk larger than its image reads as zeros after it, and the server hashes it all.
      mine =
          BlockHash.compute(
              session.size() > local.size() ? new PaddedReader(local, session.size()) : local);
    } catch (IOException e) {
      throw DiskferryException.failed("--verify: " + e.getMessage());
    }
    if (!remote.equalsIgnoreCase(mine)) {
      throw DiskferryException.failed(
          "checksum mismatch for disk " + session.diskId() + ": local blake2b " + mine
              + ", server " + remote);
    }
    checksum = mine;
  }

  private void suspend(TransferSession session, JournalKeeper keeper) {
    try {
      keeper.checkpoint();
    } catch (RuntimeException e) {
      listener.warn("could not record the last ranges done: " + e.getMessage());
    }
    try {
      session.suspend(listener);
    } catch (RuntimeException e) {
      listener.warn("could not suspend transfer " + session.transferId() + ": " + e.getMessage());
    }
  }

  private void end(TransferSession session, JournalKeeper keeper, Throwable cause, Runnable onAbort) {
    if (!abort(session, cause)) {
      // Still open on the platform (an upload's disk locked by it): its journal, and a
      // download's partial file, are what lets status show it and cancel end it.
      if (keeper != null) {
        listener.warn(
            "kept the journal of transfer " + session.transferId() + ": run 'diskferry cancel "
                + session.transferId() + "' to end it");
      }
      return;
    }
    onAbort.run();
    if (keeper != null) {
      try {
        keeper.delete();
      } catch (RuntimeException e) {
        listener.warn(e.getMessage());
      }
    }
  }

  /** Ends the session for good; a failure to do so is a warning, and the answer false. */
  boolean abort(TransferSession session, Throwable cause) {
    try {
      session.abort(cause, listener);
      return true;
    } catch (RuntimeException e) {
      listener.warn(
          "could not clean up transfer " + session.transferId() + ": " + e.getMessage());
      return false;
    }
  }

  static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }
}
