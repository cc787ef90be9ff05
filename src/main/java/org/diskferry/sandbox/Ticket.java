package org.diskferry.sandbox;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/** An imageio ticket: the data plane's authorization for one transfer. */
final class Ticket {
  /** Initial lifetime and sliding window (imageio {@code timeout}), as the engine sets it. */
  static final long TIMEOUT_NANOS = TimeUnit.SECONDS.toNanos(300);

  final String uuid;
  final Transfer transfer;
  final Disk disk;
  final long size;
  final boolean write;
  /** FILE backend (format=cow transfers): one data extent, one writer. */
  final boolean fileBackend;
  final int inactivityTimeoutSeconds;
  volatile long expiresNanos;
  volatile boolean cancelled;
  final AtomicInteger active = new AtomicInteger();
  volatile long lastActivityNanos;
  /** Ranges completed through this ticket (imageio's {@code transferred}). */
  final ExtentMap completed = new ExtentMap();

  Ticket(String uuid, Transfer transfer, Disk disk, long size, boolean write, boolean fileBackend,
      int inactivityTimeoutSeconds) {
    this.uuid = uuid;
    this.transfer = transfer;
    this.disk = disk;
    this.size = size;
    this.write = write;
    this.fileBackend = fileBackend;
    this.inactivityTimeoutSeconds = inactivityTimeoutSeconds;
    long now = System.nanoTime();
    this.expiresNanos = now + TIMEOUT_NANOS;
    this.lastActivityNanos = now;
  }

  boolean expired(long now) {
    return now - expiresNanos > 0;
  }

  void begin() {
    active.incrementAndGet();
  }

  /**
   * A request finished: slide the expiry and record the activity. An expired ticket stays
   * expired (only the engine renews it), even when a request that began before ends now.
   */
  void end() {
    long now = System.nanoTime();
    lastActivityNanos = now;
    if (!expired(now)) {
      expiresNanos = now + TIMEOUT_NANOS;
    }
    active.decrementAndGet();
  }

  long transferred() {
    return completed.total(ExtentMap.DATA);
  }

  /** imageio's transfer id in messages. */
  String transferLabel() {
    return transfer.id;
  }
}
