package org.diskferry.transfer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.LongConsumer;
import org.diskferry.error.DiskferryException;

/**
 * Moves a transfer's ranges with a pool of workers, each data-plane request tried again after
 * transient failures as the {@link RetryPolicy} allows and a refused session put back in order.
 * Everything the workers share lives here, for the whole life of one {@link Orchestrator}: the
 * interrupt request they stop at, the retries spent so far and the session being driven.
 */
final class WorkerPool {

  private final TransferListener listener;
  private final RetryPolicy retry;
  private final AtomicInteger retries = new AtomicInteger();
  private final AtomicReference<String> interruptReason = new AtomicReference<>();
  private volatile TransferSession current;

  WorkerPool(TransferListener listener, RetryPolicy retry) {
    this.listener = listener;
    this.retry = retry;
  }

  /**
   * Asks the workers to stop at the next buffer boundary; the first reason given wins. Reads in
   * flight are aborted: a download's range may take minutes on a slow link, and it is simply
   * fetched again by the resume.
   */
  void interrupt(String reason) {
    interruptReason.compareAndSet(null, reason);
    TransferSession s = current;
    if (s != null) {
      try {
        s.data().abortReads();
      } catch (RuntimeException e) {
        // the workers still stop at their next buffer
      }
    }
  }

  /** Why the transfer is being interrupted, or null while it is not. */
  String interruptReason() {
    return interruptReason.get();
  }

  /** The session being driven, or null. */
  TransferSession current() {
    return current;
  }

  /** Sets the session being driven (the one a refusal recovers), or null when there is none. */
  void current(TransferSession session) {
    current = session;
  }

  /** The retries spent so far. */
  int retries() {
    return retries.get();
  }

  /** One worker's job on one range. */
  interface RangeWork {
    /**
     * Moves the range and returns the bytes that crossed the wire as data; reports the bytes it
     * has dealt with (sent, skipped or zeroed) to {@code moved} as it goes.
     */
    long move(Range range, ByteBuffer buffer, LongConsumer moved) throws IOException;
  }

  /** A worker left a range unfinished because the transfer is being interrupted. */
  static final class Stopped extends RuntimeException {
    Stopped() {
      super(null, null, false, false);
    }
  }

  /** A data-plane call that may be tried again. */
  interface DataCall {
    void run() throws IOException;
  }

  /**
   * Runs an idempotent data-plane request (a ranged PUT or GET, a zero, a flush), trying it again
   * after transient failures as the retry policy allows.
   */
  void withRetries(String what, DataCall call) {
    for (int attempt = 1; ; attempt++) {
      try {
        call.run();
        return;
      } catch (IOException e) {
        backOff(what, attempt, e);
      }
    }
  }

  /**
   * Session recoveries allowed per transfer (a paused_system transfer resumed, and so on); a
   * session that continues in a new transfer starts counting again.
   */
  static final int MAX_RECOVERIES = 3;

  private int recoveries;
  private long lastRecovery;
  private Runnable afterRecovery;

  /** Runs after each recovery that put the session back in order (null for nothing). */
  synchronized void afterRecovery(Runnable r) {
    afterRecovery = r;
  }

  /**
   * Puts a refused session back in order, once for all the workers that saw the refusal at the
   * same moment. Returns false when it cannot be done.
   */
  private synchronized boolean recover(TransferSession session) {
    if (session == null) {
      return false;
    }
    if (System.nanoTime() - lastRecovery < 2_000_000_000L && lastRecovery != 0) {
      return true; // another worker just did it
    }
    if (recoveries >= MAX_RECOVERIES) {
      return false;
    }
    recoveries++;
    try {
      String before = session.transferId();
      boolean ok = session.recover(listener);
      lastRecovery = System.nanoTime();
      if (ok && !before.equals(session.transferId())) {
        // Continued in a new transfer (the session bounds how many): that one gets its own.
        recoveries = 0;
      }
      if (ok && afterRecovery != null) {
        afterRecovery.run();
      }
      return ok;
    } catch (RuntimeException e) {
      listener.warn("could not recover transfer " + session.transferId() + ": " + e.getMessage());
      return false;
    }
  }

  /** Waits before another try, or throws when the retry budget is spent. */
  private void backOff(String what, int attempt, IOException cause) {
    if (cause instanceof SessionLostException
        && (interruptReason.get() != null || !recover(current))) {
      throw new RetriesExhausted(what, attempt, cause);
    }
    // After a recovery too: the platform may need a moment (an engine poll) to renew the ticket.
    if (attempt >= retry.attemptsPerRequest()
        || retries.incrementAndGet() > retry.retriesPerTransfer()
        || interruptReason.get() != null) {
      throw new RetriesExhausted(what, attempt, cause);
    }
    listener.retry(what, attempt, cause);
    try {
      Thread.sleep(retry.delay(attempt, cause).toMillis());
    } catch (InterruptedException ie) {
      Thread.currentThread().interrupt();
      throw new RetriesExhausted(what, attempt, cause);
    }
  }

  /** A transient failure that outlived its retries. */
  static final class RetriesExhausted extends DiskferryException {
    RetriesExhausted(String what, int attempts, IOException cause) {
      super(
          Kind.FAILED,
          what + " failed after " + attempts + (attempts == 1 ? " try: " : " tries: ")
              + describe(cause),
          cause);
    }
  }

  long moveRanges(
      TransferSession session,
      List<Range> ranges,
      long alreadyDone,
      int workers,
      TransferRequest req,
      RangeWork work,
      JournalKeeper keeper) {
    long size = session.size();
    ConcurrentLinkedQueue<Range> queue = new ConcurrentLinkedQueue<>(ranges);
    AtomicLong progress = new AtomicLong(alreadyDone);
    AtomicLong wire = new AtomicLong();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    listener.progress(alreadyDone, size);
    ExecutorService pool =
        Executors.newFixedThreadPool(
            workers,
            r -> {
              Thread t = new Thread(r, "diskferry-worker");
              t.setDaemon(true);
              return t;
            });
    try (Heartbeat heartbeat =
        Heartbeat.start(session, req.heartbeat(), progress, listener, keeper)) {
      Future<?>[] futures = new Future<?>[workers];
      int bufferSize = bufferSize(req, workers);
      for (int i = 0; i < workers; i++) {
        futures[i] =
            pool.submit(
                () -> {
                  // Aligned, so a download writes it to the file without a copy (O_DIRECT).
                  ByteBuffer buffer = UncachedFile.allocate(bufferSize);
                  Range r;
                  while (failure.get() == null
                      && interruptReason.get() == null
                      && (r = queue.poll()) != null) {
                    try {
                      wire.addAndGet(
                          work.move(r, buffer, n -> listener.progress(progress.addAndGet(n), size)));
                      if (keeper != null) {
                        keeper.rangeDone(r);
                      }
                    } catch (Stopped e) {
                      return;
                    } catch (Throwable e) {
                      failure.compareAndSet(null, e);
                    }
                  }
                });
      }
      for (Future<?> f : futures) {
        try {
          f.get();
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          interrupt("interrupted");
        } catch (ExecutionException e) {
          failure.compareAndSet(null, e.getCause());
        }
      }
    } finally {
      pool.shutdownNow();
    }
    Throwable f = failure.get();
    if (f != null && interruptReason.get() == null) {
      if (f instanceof RuntimeException re) {
        throw re;
      }
      if (f instanceof Error err) {
        throw err;
      }
      throw DiskferryException.failed(
          "transfer " + session.transferId() + " failed while moving data: " + describe(f));
    }
    return wire.get();
  }

  private final java.util.concurrent.atomic.AtomicBoolean bufferWarned =
      new java.util.concurrent.atomic.AtomicBoolean();

  /** Each worker's buffer: what was asked, within the direct memory this process has for it. */
  private int bufferSize(TransferRequest req, int workers) {
    int asked = (int) Math.min(req.bufferSize(), Math.max(4096, req.rangeSize()));
    int fitted = BufferBudget.fit(asked, workers, BufferBudget.direct());
    if (fitted < asked && bufferWarned.compareAndSet(false, true)) {
      listener.warn(BufferBudget.warning(asked, workers, fitted, "workers"));
    }
    return Math.min(asked, fitted);
  }

  /** Checks for an interrupt request; ends the session and throws when there is one. */
  void checkInterrupted(TransferSession session) {
    String reason = interruptReason.get();
    if (reason == null) {
      return;
    }
    throw new TransferInterruptedException(
        session == null ? reason : reason + "; transfer " + session.transferId() + " was ended",
        session == null ? null : session.transferId());
  }

  static String describe(Throwable t) {
    String m = t.getMessage();
    return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
  }
}
