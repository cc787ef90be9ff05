package org.diskferry.error;

/**
 * A failure that diskferry reports to the person as one line, with the exit code of SPEC.md.
 *
 * <p>Every layer below the CLI throws this (or lets an {@link java.io.IOException} escape, which
 * the CLI treats as a transfer failure). The message must say what failed and what to do, and must
 * never contain a secret: no password, token or transfer URL (the ticket is in the URL).
 */
public class DiskferryException extends RuntimeException {

  /** The kinds of failure that SPEC.md gives distinct exit codes. */
  public enum Kind {
    /** The transfer failed: finished_failure, verification mismatch, server error. */
    FAILED(1),
    /** Usage error or bad local input (missing or unreadable file, bad format). */
    BAD_INPUT(2),
    /** Authentication, authorization or TLS trust failure. */
    AUTH(3),
    /** Disk, storage domain, transfer, host or image not found. */
    NOT_FOUND(4),
    /** The disk or image is locked or in the wrong state. */
    CONFLICT(5),
    /** A transient failure that outlived the retries; {@code diskferry resume} can continue. */
    TRANSIENT(75);

    private final int exitCode;

    Kind(int exitCode) {
      this.exitCode = exitCode;
    }

    /** The process exit code for this kind. */
    public int exitCode() {
      return exitCode;
    }
  }

  /** What the CLI suggests after the message, built from how the tool was run. */
  public enum Hint {
    NONE,
    /** {@code diskferry resume ID} continues it. */
    RESUME,
    /** {@code diskferry resume ID} continues it, {@code diskferry cancel ID} drops it. */
    RESUME_OR_CANCEL,
    /** {@code diskferry cancel ID} cleans it up. */
    CANCEL
  }

  private final Kind kind;
  private String transferId;
  private Hint hint;

  public DiskferryException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public DiskferryException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }

  /** The transfer (or image) this failure concerns, or null. */
  public String transferId() {
    return transferId;
  }

  /** True when {@code diskferry resume} can continue what failed (a transient failure). */
  public boolean resumable() {
    return kind == Kind.TRANSIENT;
  }

  /** The command the CLI suggests for {@link #transferId}: resume when resumable, else none. */
  public Hint hint() {
    return hint != null ? hint : resumable() ? Hint.RESUME : Hint.NONE;
  }

  /** Names the transfer this failure concerns; returns this. */
  public DiskferryException transfer(String id) {
    this.transferId = id;
    return this;
  }

  /** Names the transfer and what the CLI should suggest doing with it; returns this. */
  public DiskferryException transfer(String id, Hint hint) {
    this.transferId = id;
    this.hint = hint;
    return this;
  }

  public static DiskferryException failed(String message) {
    return new DiskferryException(Kind.FAILED, message);
  }

  public static DiskferryException badInput(String message) {
    return new DiskferryException(Kind.BAD_INPUT, message);
  }

  public static DiskferryException auth(String message) {
    return new DiskferryException(Kind.AUTH, message);
  }

  public static DiskferryException notFound(String message) {
    return new DiskferryException(Kind.NOT_FOUND, message);
  }

  public static DiskferryException conflict(String message) {
    return new DiskferryException(Kind.CONFLICT, message);
  }

  public static DiskferryException transientFailure(String message, Throwable cause) {
    return new DiskferryException(Kind.TRANSIENT, message, cause);
  }
}
