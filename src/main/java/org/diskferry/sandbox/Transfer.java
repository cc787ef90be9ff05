package org.diskferry.sandbox;

/** An engine ImageTransfer. Fields are guarded by the sandbox's engine lock. */
final class Transfer {
  final String id;
  final Disk disk;
  final boolean download;
  final String format; // raw | cow
  final int inactivityTimeout;
  final String timeoutPolicy; // legacy | pause | cancel
  final boolean shallow;
  final String hostId;
  String phase;
  Ticket ticket;
  int initPollsLeft;
  long nextPollNanos;
  long intervalNanos;
  int autoFinalizeStreak;
  boolean finalizeReady;
  long finishedAtNanos;
  long transferred;
  long lastUpdatedMillis;
  /** The VM backup whose disk this transfer downloads (its point-in-time copy), or null. */
  Backup backup;
  /** For an incremental disk of a backup: the blocks dirty since its from-checkpoint. */
  ExtentMap dirty;

  Transfer(String id, Disk disk, boolean download, String format, int inactivityTimeout,
      String timeoutPolicy, boolean shallow, String hostId) {
    this.id = id;
    this.disk = disk;
    this.download = download;
    this.format = format;
    this.inactivityTimeout = inactivityTimeout;
    this.timeoutPolicy = timeoutPolicy;
    this.shallow = shallow;
    this.hostId = hostId;
  }

  boolean finished() {
    return phase.equals("finished_success") || phase.equals("finished_failure");
  }

  boolean paused() {
    return phase.equals("paused_user") || phase.equals("paused_system");
  }
}
