package org.diskferry.cli.progress;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.math.BigDecimal;
import java.time.Duration;
import java.util.Objects;
import java.util.function.LongSupplier;
import org.diskferry.http.Json;

/**
 * Progress as JSON Lines on stderr (with {@code -o json}): one object per line, each with an {@code
 * event} field and {@code elapsed}, the seconds since the command started (millisecond precision).
 *
 * <pre>
 * {"event":"phase","phase":"uploading","elapsed":0.412}
 * {"event":"progress","transferred":1610612736,"size":4294967296,"elapsed":3.250,"phase":"uploading"}
 * {"event":"warning","message":"...","elapsed":4.001}
 * {"event":"retry","what":"PUT range 0-8388607","attempt":2,"error":"SocketTimeoutException: timeout","elapsed":5.100}
 * {"event":"info","message":"...","elapsed":5.200}          (only with -v)
 * </pre>
 *
 * <p>Progress events are throttled to at most one per interval (default 1 s), except that the first
 * progress of each phase and the one that reaches the size (100%) are always written, and a
 * progress held back by the throttle is written before the next phase event and on {@link #close},
 * so the last figure of every phase is in the stream. Thread-safe.
 */
public final class JsonLinesProgress implements ProgressRenderer {

  public static final Duration DEFAULT_INTERVAL = Duration.ofSeconds(1);

  private final PrintStream err;
  private final boolean verbose;
  private final long intervalNanos;
  private final LongSupplier nanoClock;
  private final long startNanos;

  // All below guarded by this.
  private String phase;
  private boolean emittedInPhase;
  private boolean finalEmitted;
  private long lastEmitNanos;
  private long maxTransferred = -1;
  private long lastSize;
  private boolean pending;
  private boolean warningsOnly;

  public JsonLinesProgress(PrintStream err, boolean verbose) {
    this(err, verbose, DEFAULT_INTERVAL, System::nanoTime);
  }

  public JsonLinesProgress(
      PrintStream err, boolean verbose, Duration interval, LongSupplier nanoClock) {
    this.err = Objects.requireNonNull(err, "err");
    this.verbose = verbose;
    this.intervalNanos = Objects.requireNonNull(interval, "interval").toNanos();
    this.nanoClock = Objects.requireNonNull(nanoClock, "nanoClock");
    this.startNanos = nanoClock.getAsLong();
  }

  /** Writes warnings only ({@code -q -o json}); returns this. */
  public synchronized JsonLinesProgress warningsOnly() {
    warningsOnly = true;
    return this;
  }

  @Override
  public synchronized void phase(String newPhase) {
    if (warningsOnly) {
      return;
    }
    long now = nanoClock.getAsLong();
    flushPending(now);
    phase = Events.oneLine(newPhase);
    emittedInPhase = false;
    finalEmitted = false;
    maxTransferred = -1;
    ObjectNode node = event("phase");
    node.put("phase", phase);
    node.put("elapsed", seconds(now));
    write(node);
  }

  @Override
  public synchronized void progress(long transferred, long size) {
    if (warningsOnly || transferred < maxTransferred || finalEmitted) {
      return;
    }
    maxTransferred = transferred;
    lastSize = size;
    long now = nanoClock.getAsLong();
    boolean done = size > 0 && transferred >= size;
    if (done || !emittedInPhase || now - lastEmitNanos >= intervalNanos) {
      finalEmitted = done;
      emitProgress(now);
    } else {
      pending = true;
    }
  }

  @Override
  public void info(String message) {
    if (verbose) {
      message("info", message);
    }
  }

  @Override
  public void warn(String message) {
    message("warning", message);
  }

  @Override
  public synchronized void retry(String what, int attempt, Throwable cause) {
    if (warningsOnly) {
      return;
    }
    ObjectNode node = event("retry");
    node.put("what", Events.oneLine(what));
    node.put("attempt", attempt);
    node.put("error", Events.describe(cause));
    node.put("elapsed", seconds(nanoClock.getAsLong()));
    write(node);
  }

  @Override
  public synchronized void close() {
    flushPending(nanoClock.getAsLong());
    err.flush();
  }

  private synchronized void message(String type, String message) {
    ObjectNode node = event(type);
    node.put("message", Events.oneLine(message));
    node.put("elapsed", seconds(nanoClock.getAsLong()));
    write(node);
  }

  private void flushPending(long now) {
    if (pending) {
      emitProgress(now);
    }
  }

  private void emitProgress(long now) {
    ObjectNode node = event("progress");
    node.put("transferred", maxTransferred);
    node.put("size", lastSize);
    node.put("elapsed", seconds(now));
    if (phase != null) {
      node.put("phase", phase);
    }
    emittedInPhase = true;
    pending = false;
    lastEmitNanos = now;
    write(node);
  }

  private static ObjectNode event(String type) {
    ObjectNode node = Json.mapper().createObjectNode();
    node.put("event", type);
    return node;
  }

  private BigDecimal seconds(long now) {
    return BigDecimal.valueOf(Math.max(0, now - startNanos) / 1_000_000, 3);
  }

  private void write(ObjectNode node) {
    String line;
    try {
      line = Json.mapper().writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new UncheckedIOException(e);
    }
    err.println(line);
    err.flush();
  }
}
