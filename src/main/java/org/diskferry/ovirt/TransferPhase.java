package org.diskferry.ovirt;

import java.util.Locale;

/** The phase of an engine image transfer, as the engine renders it (lower case on the wire). */
public enum TransferPhase {
  UNKNOWN,
  INITIALIZING,
  TRANSFERRING,
  RESUMING,
  PAUSED_SYSTEM,
  PAUSED_USER,
  CANCELLED,
  FINALIZING_SUCCESS,
  FINALIZING_FAILURE,
  FINISHED_SUCCESS,
  FINISHED_FAILURE,
  CANCELLED_SYSTEM,
  CANCELLED_USER,
  FINALIZING_CLEANUP,
  FINISHED_CLEANUP;

  /** Parses a wire value, ignoring case; null or an unrecognised value gives {@link #UNKNOWN}. */
  public static TransferPhase parse(String value) {
    if (value == null) {
      return UNKNOWN;
    }
    String v = value.trim().toUpperCase(Locale.ROOT);
    for (TransferPhase p : values()) {
      if (p.name().equals(v)) {
        return p;
      }
    }
    return UNKNOWN;
  }

  /** The value as the engine writes it, e.g. {@code finished_success}. */
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }

  /**
   * True for the two terminal phases, {@code finished_success} and {@code finished_failure}.
   * {@code finished_cleanup} is not terminal: the engine moves a cancelled transfer on to
   * {@code finished_failure} (and removes an uploaded disk) one poll later.
   */
  public boolean isFinished() {
    return this == FINISHED_SUCCESS || this == FINISHED_FAILURE;
  }

  /** True for {@code paused_system} and {@code paused_user}: the disk stays locked. */
  public boolean isPaused() {
    return this == PAUSED_SYSTEM || this == PAUSED_USER;
  }

  /** True for {@code cancelled}, {@code cancelled_system} and {@code cancelled_user}. */
  public boolean isCancelled() {
    return this == CANCELLED || this == CANCELLED_SYSTEM || this == CANCELLED_USER;
  }

  /** True for the three {@code finalizing_*} phases. */
  public boolean isFinalizing() {
    return this == FINALIZING_SUCCESS || this == FINALIZING_FAILURE || this == FINALIZING_CLEANUP;
  }
}
