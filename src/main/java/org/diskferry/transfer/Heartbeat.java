package org.diskferry.transfer;

import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Keeps a session alive while data moves: {@code extend} on the control plane at a fixed cadence
 * (what older engines need), and a cheap data-plane request when no data has moved for a while
 * (engines 4.4+ judge inactivity by data-plane traffic alone).
 */
final class Heartbeat implements AutoCloseable {

  /** No data for this long triggers a data-plane keep-alive. */
  static final Duration IDLE_KEEPALIVE = Duration.ofSeconds(15);

  private final ScheduledExecutorService timer;

  private Heartbeat(ScheduledExecutorService timer) {
    this.timer = timer;
  }

  /**
   * How often the journal records the ranges done: 2 s. Tests that kill a fast transfer at its
   * first recorded progress shorten it with the system property {@code diskferry.checkpoint.millis}.
   */
  static final Duration CHECKPOINT =
      Duration.ofMillis(Math.max(50, Long.getLong("diskferry.checkpoint.millis", 2000)));

  static Heartbeat start(
      TransferSession session, Duration every, AtomicLong progress, TransferListener listener) {
    return start(session, every, progress, listener, null);
  }

  static Heartbeat start(
      TransferSession session,
      Duration every,
      AtomicLong progress,
      TransferListener listener,
      JournalKeeper keeper) {
    ScheduledExecutorService timer =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "diskferry-heartbeat");
              t.setDaemon(true);
              return t;
            });
    long periodMs = Math.max(100, every.toMillis());
    long tickMs = Math.min(1000, periodMs);
    long[] lastExtend = {System.nanoTime()};
    long[] lastMove = {System.nanoTime(), progress.get()};
    long[] lastCheckpoint = {System.nanoTime()};
    timer.scheduleWithFixedDelay(
        () -> {
          long now = System.nanoTime();
          try {
            if (now - lastExtend[0] >= TimeUnit.MILLISECONDS.toNanos(periodMs)) {
              lastExtend[0] = now;
              session.heartbeat();
            }
            if (keeper != null && now - lastCheckpoint[0] >= CHECKPOINT.toNanos()) {
              lastCheckpoint[0] = now;
              keeper.checkpoint();
            }
            long p = progress.get();
            if (p != lastMove[1]) {
              lastMove[0] = now;
              lastMove[1] = p;
            } else if (now - lastMove[0] >= IDLE_KEEPALIVE.toNanos()) {
              lastMove[0] = now;
              session.data().keepAlive();
            }
          } catch (Exception e) {
            listener.warn("heartbeat failed: " + e.getMessage());
          }
        },
        tickMs,
        tickMs,
        TimeUnit.MILLISECONDS);
    return new Heartbeat(timer);
  }

  /**
   * Stops the heartbeat. A tick in progress is allowed to finish rather than interrupted: it may
   * be fsyncing the partial file of a download, and an interrupt there would close that channel.
   * Only a tick stuck for longer than {@link #CLOSE_WAIT} is interrupted.
   */
  @Override
  public void close() {
    timer.shutdown();
    try {
      if (!timer.awaitTermination(CLOSE_WAIT.toMillis(), TimeUnit.MILLISECONDS)) {
        timer.shutdownNow();
      }
    } catch (InterruptedException e) {
      timer.shutdownNow();
      Thread.currentThread().interrupt();
    }
  }

  /** How long {@link #close()} waits for a tick in progress. */
  static final Duration CLOSE_WAIT = Duration.ofSeconds(30);
}
