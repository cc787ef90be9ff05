package org.diskferry.transfer;

import java.io.EOFException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongConsumer;
import java.util.concurrent.atomic.AtomicReference;
import org.diskferry.error.DiskferryException;

/**
 * Runs one upload or download: asks the backend for a session, splits the image into ranges, moves
 * them with a pool of workers while a heartbeat keeps the session alive, then completes the
 * session, or aborts it on any failure so nothing is left locked. Never prints: everything goes to
 * the {@link TransferListener}.
 */
public final class Orchestrator {

  private final Backend backend;
  private final TransferListener listener;
  private final RetryPolicy retry;
  private final AtomicInteger retries = new AtomicInteger();
  private final AtomicReference<String> interruptReason = new AtomicReference<>();
  private volatile TransferSession current;

  public Orchestrator(Backend backend, TransferListener listener) {
    this(backend, listener, RetryPolicy.DEFAULT);
  }

  public Orchestrator(Backend backend, TransferListener listener, RetryPolicy retry) {
    this.backend = backend;
    this.listener = listener;
    this.retry = retry;
  }

  /**
   * Asks a running transfer to stop at the next buffer boundary; {@link #run} then ends the session
   * (cancel for uploads, finalize for downloads) and throws {@link TransferInterruptedException}.
   */
  public void interrupt(String reason) {
    interruptReason.compareAndSet(null, reason);
  }

  /** The session being driven, if one is open (for signal handlers that want to report its id). */
  public TransferSession currentSession() {
    return current;
  }

  public TransferResult run(TransferRequest request) {
    return request.direction() == Direction.UPLOAD ? upload(request) : download(request);
  }

  private TransferResult upload(TransferRequest req) {
    long started = System.nanoTime();
    listener.phase("inspecting image");
    Path src = req.localPath();
    long size = LocalImage.checkSource(src);
    try (FileChannel in = FileChannel.open(src, StandardOpenOption.READ)) {
      checkInterrupted(null);
      TransferSession session = backend.openUpload(req, size, listener);
      current = session;
      try {
        checkInterrupted(session);
        // The backend checked that the image fits before it opened the transfer: cancelling an
        // upload transfer makes the engine remove the disk, so that check cannot wait until now.
        List<Range> ranges = Range.split(size, req.rangeSize());
        int workers = Math.max(1, Math.min(req.workers(), session.maxConnections()));
        listener.phase("uploading");
        long sent = moveRanges(session, ranges, size, workers, req, new UploadWork(in, session));
        checkInterrupted(session);
        listener.phase("finalizing transfer");
        withRetries("flush", () -> session.data().flush());
        String phase = session.complete(listener);
        listener.phase("upload completed");
        return new TransferResult(
            Direction.UPLOAD,
            session.transferId(),
            session.diskId(),
            phase,
            size,
            sent,
            seconds(started),
            workers,
            retries.get());
      } catch (RuntimeException | Error e) {
        abort(session, e);
        throw e;
      }
    } catch (IOException e) {
      throw DiskferryException.badInput("cannot read " + src + ": " + e.getMessage());
    } finally {
      current = null;
    }
  }

  private TransferResult download(TransferRequest req) {
    long started = System.nanoTime();
    Path target = req.localPath().toAbsolutePath();
    LocalImage.checkTarget(target, req.force());
    Path part = target.resolveSibling(target.getFileName() + ".part");
    checkInterrupted(null);
    TransferSession session = backend.openDownload(req, listener);
    current = session;
    boolean done = false;
    try (FileChannel out =
        FileChannel.open(
            part,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      checkInterrupted(session);
      long size = session.size();
      // A sparse file of the disk's size: zero extents are never written, so they stay holes.
      if (size > 0) {
        out.write(ByteBuffer.allocate(1), size - 1);
      }
      List<DataChannel.Extent> extents =
          session.data().extents().orElse(List.of(new DataChannel.Extent(0, size, false)));
      List<Range> ranges = Range.split(clip(extents, size), req.rangeSize());
      int workers = Math.max(1, Math.min(req.workers(), session.maxConnections()));
      listener.phase("downloading");
      long received = moveRanges(session, ranges, size, workers, req, new DownloadWork(out, session));
      checkInterrupted(session);
      out.force(true);
      out.close();
      moveIntoPlace(part, target, req.force());
      done = true;
      listener.phase("finalizing transfer");
      String phase = session.complete(listener);
      listener.phase("download completed");
      return new TransferResult(
          Direction.DOWNLOAD,
          session.transferId(),
          session.diskId(),
          phase,
          size,
          received,
          seconds(started),
          workers,
          retries.get());
    } catch (IOException e) {
      abort(session, e);
      throw DiskferryException.failed("cannot write " + part + ": " + e.getMessage());
    } catch (RuntimeException | Error e) {
      if (!done) {
        abort(session, e);
      }
      throw e;
    } finally {
      current = null;
      if (!done) {
        try {
          Files.deleteIfExists(part);
        } catch (IOException e) {
          listener.warn("cannot remove " + part + ": " + e.getMessage());
        }
      }
    }
  }

  private static List<DataChannel.Extent> clip(List<DataChannel.Extent> extents, long size) {
    return extents.stream()
        .filter(e -> e.start() < size)
        .map(
            e ->
                e.start() + e.length() > size
                    ? new DataChannel.Extent(e.start(), size - e.start(), e.zero())
                    : e)
        .toList();
  }

  private void abort(TransferSession session, Throwable cause) {
    try {
      session.abort(cause, listener);
    } catch (RuntimeException e) {
      listener.warn(
          "could not clean up transfer " + session.transferId() + ": " + e.getMessage());
    }
  }

  /** One worker's job on one range. */
  private interface RangeWork {
    /**
     * Moves the range and returns the bytes that crossed the wire as data; reports the bytes it
     * has dealt with (sent, skipped or zeroed) to {@code moved} as it goes.
     */
    long move(Range range, ByteBuffer buffer, LongConsumer moved) throws IOException;
  }

  /** A data-plane call that may be tried again. */
  private interface DataCall {
    void run() throws IOException;
  }

  /**
   * Runs an idempotent data-plane request (a ranged PUT or GET, a zero, a flush), trying it again
   * after transient failures as the retry policy allows.
   */
  private void withRetries(String what, DataCall call) {
    for (int attempt = 1; ; attempt++) {
      try {
        call.run();
        return;
      } catch (IOException e) {
        backOff(what, attempt, e);
      }
    }
  }

  /** Waits before another try, or throws when the retry budget is spent. */
  private void backOff(String what, int attempt, IOException cause) {
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
  private static final class RetriesExhausted extends DiskferryException {
    RetriesExhausted(String what, int attempts, IOException cause) {
      super(
          Kind.FAILED,
          what + " failed after " + attempts + (attempts == 1 ? " try: " : " tries: ")
              + describe(cause),
          cause);
    }
  }

  private long moveRanges(
      TransferSession session,
      List<Range> ranges,
      long size,
      int workers,
      TransferRequest req,
      RangeWork work) {
    ConcurrentLinkedQueue<Range> queue = new ConcurrentLinkedQueue<>(ranges);
    AtomicLong progress = new AtomicLong();
    AtomicLong wire = new AtomicLong();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    listener.progress(0, size);
    ExecutorService pool =
        Executors.newFixedThreadPool(
            workers,
            r -> {
              Thread t = new Thread(r, "diskferry-worker");
              t.setDaemon(true);
              return t;
            });
    try (Heartbeat heartbeat = Heartbeat.start(session, req.heartbeat(), progress, listener)) {
      Future<?>[] futures = new Future<?>[workers];
      int bufferSize = (int) Math.min(req.bufferSize(), Math.max(4096, req.rangeSize()));
      for (int i = 0; i < workers; i++) {
        futures[i] =
            pool.submit(
                () -> {
                  ByteBuffer buffer = ByteBuffer.allocateDirect(bufferSize);
                  Range r;
                  while (failure.get() == null
                      && interruptReason.get() == null
                      && (r = queue.poll()) != null) {
                    try {
                      wire.addAndGet(
                          work.move(r, buffer, n -> listener.progress(progress.addAndGet(n), size)));
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
      if (f instanceof RetriesExhausted) {
        Throwable io = f.getCause();
        throw DiskferryException.failed(
            "transfer "
                + session.transferId()
                + " failed while moving data: "
                + f.getMessage()
                + (io instanceof java.net.SocketException
                    ? " (the data connection to the server was lost)"
                    : ""));
      }
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

  private static String describe(Throwable t) {
    String m = t.getMessage();
    return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
  }

  /** Checks for an interrupt request; ends the session and throws when there is one. */
  private void checkInterrupted(TransferSession session) {
    String reason = interruptReason.get();
    if (reason == null) {
      return;
    }
    throw new TransferInterruptedException(
        session == null ? reason : reason + "; transfer " + session.transferId() + " was ended",
        session == null ? null : session.transferId());
  }

  /** Reads the source range by range; zero blocks are skipped or zeroed, never sent as data. */
  private final class UploadWork implements RangeWork {
    private final FileChannel in;
    private final TransferSession session;

    UploadWork(FileChannel in, TransferSession session) {
      this.in = in;
      this.session = session;
    }

    @Override
    public long move(Range range, ByteBuffer buffer, LongConsumer moved) throws IOException {
      DataChannel data = session.data();
      long sent = 0;
      long zeroStart = -1;
      long pos = range.start();
      while (pos < range.end()) {
        if (interruptReason.get() != null) {
          return sent;
        }
        int n = (int) Math.min(buffer.capacity(), range.end() - pos);
        buffer.clear().limit(n);
        readFully(in, buffer, pos);
        buffer.flip();
        if (ZeroBlocks.isZero(buffer)) {
          if (zeroStart < 0) {
            zeroStart = pos;
          }
        } else {
          if (zeroStart >= 0) {
            zero(data, zeroStart, pos - zeroStart);
            zeroStart = -1;
          }
          long at = pos;
          withRetries("PUT bytes " + at + "-" + (at + n - 1), () -> data.write(at, buffer));
          sent += n;
        }
        pos += n;
        moved.accept(n);
      }
      if (zeroStart >= 0) {
        zero(data, zeroStart, range.end() - zeroStart);
      }
      return sent;
    }

    private void zero(DataChannel data, long start, long length) {
      if (!session.targetReadsAsZeros()) {
        withRetries(
            "zero bytes " + start + "-" + (start + length - 1), () -> data.zero(start, length));
      }
    }
  }

  /** Fetches data ranges into the sparse target file; zero ranges stay holes. */
  private final class DownloadWork implements RangeWork {
    private final FileChannel out;
    private final TransferSession session;

    DownloadWork(FileChannel out, TransferSession session) {
      this.out = out;
      this.session = session;
    }

    @Override
    public long move(Range range, ByteBuffer buffer, LongConsumer moved) throws IOException {
      if (!range.zero()) {
        withRetries(
            "GET bytes " + range.start() + "-" + (range.end() - 1),
            () -> session.data().read(range.start(), range.length(), out, range.start(), buffer));
      }
      moved.accept(range.length());
      return range.zero() ? 0 : range.length();
    }
  }

  private static void readFully(FileChannel in, ByteBuffer buf, long pos) throws IOException {
    long p = pos;
    while (buf.hasRemaining()) {
      int n = in.read(buf, p);
      if (n < 0) {
        throw new EOFException("the source file shrank while it was being read");
      }
      p += n;
    }
  }

  private static void moveIntoPlace(Path part, Path target, boolean force) throws IOException {
    try {
      if (force) {
        Files.move(part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } else {
        Files.move(part, target, StandardCopyOption.ATOMIC_MOVE);
      }
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(part, target, StandardCopyOption.REPLACE_EXISTING);
    }
    syncDirectory(target.getParent());
  }

  private static void syncDirectory(Path dir) {
    if (dir == null) {
      return;
    }
    try (FileChannel d = FileChannel.open(dir, StandardOpenOption.READ)) {
      d.force(true);
    } catch (IOException | UncheckedIOException e) {
      // Some file systems cannot open directories; the file itself was already synced.
    }
  }

  private static double seconds(long startNanos) {
    return (System.nanoTime() - startNanos) / 1e9;
  }
}
