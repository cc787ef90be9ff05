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
import java.util.ArrayList;
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
import org.diskferry.image.BlockHash;
import org.diskferry.image.Extent;
import org.diskferry.image.ImageFormat;
import org.diskferry.image.ImageInfo;
import org.diskferry.image.ImageInspector;
import org.diskferry.image.ImageReader;
import org.diskferry.image.ImageReaders;
import org.diskferry.image.PaddedReader;
import org.diskferry.image.RawReader;

/**
 * Runs one upload or download: asks the backend for a session, splits the image into ranges, moves
 * them with a pool of workers while a heartbeat keeps the session alive, then completes the
 * session. Never prints: everything goes to the {@link TransferListener}.
 *
 * <p>With a {@link JournalStore}, the ranges done are recorded as they are flushed, and an
 * interruption or a transient failure that outlived the retries suspends the transfer (an upload
 * is paused, a download finalized with its partial file kept) so that {@link #resume} can finish
 * it later. Any other failure ends the session for good: an upload is cancelled (the platform
 * removes the half-written disk), a download finalized and its partial file removed.
 */
public final class Orchestrator {

  private final Backend backend;
  private final TransferListener listener;
  private final RetryPolicy retry;
  private final JournalStore journals;
  private final boolean cancelOnInterrupt;
  private final AtomicInteger retries = new AtomicInteger();
  private final AtomicReference<String> interruptReason = new AtomicReference<>();
  private volatile TransferSession current;
  private boolean verify;

  public Orchestrator(Backend backend, TransferListener listener) {
    this(backend, listener, RetryPolicy.DEFAULT, null, true);
  }

  public Orchestrator(Backend backend, TransferListener listener, RetryPolicy retry) {
    this(backend, listener, retry, null, true);
  }

  /**
   * @param journals where to keep resume journals, or null to keep none
   * @param cancelOnInterrupt end the transfer for good when interrupted, even with journals
   */
  public Orchestrator(
      Backend backend,
      TransferListener listener,
      RetryPolicy retry,
      JournalStore journals,
      boolean cancelOnInterrupt) {
    this.backend = backend;
    this.listener = listener;
    this.retry = retry;
    this.journals = journals;
    this.cancelOnInterrupt = cancelOnInterrupt || journals == null;
  }

  /**
   * Compares the server's checksum of the disk with one computed locally before a transfer is
   * finalized; a mismatch fails the transfer (an upload is cancelled).
   */
  public Orchestrator verifyChecksums(boolean on) {
    this.verify = on;
    return this;
  }

  /**
   * Asks a running transfer to stop at the next buffer boundary; {@link #run} then suspends or
   * ends the session and throws {@link TransferInterruptedException}.
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
    ImageInfo info = ImageInspector.inspect(src);
    long size = info.virtualSize();
    long fileSize = info.fileSize();
    long modified = modified(src);
    if (req.format() == null) {
      req = req.withFormat(info.format().diskFormat());
    }
    try (ImageReader reader = ImageReaders.open(info)) {
      checkInterrupted(null);
      Journal[] opened = new Journal[1];
      TransferSession session;
      ImageSizing sizing = ImageSizing.of(info, reader, req);
      try {
        session =
            backend.openUpload(
                req,
                sizing,
                listener,
                // Until a transfer exists, the new disk is journaled under a pending id, so that
                // status, resume and cancel know of it even if this process dies meanwhile.
                diskId ->
                    opened[0] =
                        early(
                            new Journal(
                                Journal.VERSION, Journal.pendingId(diskId), diskId,
                                Direction.UPLOAD, backend.endpoint(),
                                src.toAbsolutePath().toString(), fileSize, modified, size, true,
                                false, List.of(), System.currentTimeMillis())),
                s -> {
                  Journal pending = opened[0];
                  opened[0] =
                      early(
                          new Journal(
                              Journal.VERSION, s.transferId(), s.diskId(), Direction.UPLOAD,
                              backend.endpoint(), src.toAbsolutePath().toString(), fileSize,
                              modified, s.size(), s.createdDisk(), s.targetReadsAsZeros(),
                              List.of(), System.currentTimeMillis()));
                  forget(pending);
                });
      } catch (RuntimeException e) {
        forget(opened[0]);
        throw e;
      }
      return drive(
          session, opened[0], plan(info, reader, req.rangeSize(), null),
          new UploadWork(reader, session), req, started, null, () -> verify(session, reader));
    } catch (IOException e) {
      throw DiskferryException.badInput("cannot read " + src + ": " + e.getMessage());
    }
  }

  /**
   * The ranges of an upload: a qcow2 image says where its zeros are, so those ranges are never
   * read; a raw image is read whole and its zero blocks found on the way. With a journal, only
   * what is not done yet.
   */
  private static List<Range> plan(ImageInfo info, ImageReader reader, long rangeSize, Journal j)
      throws IOException {
    List<Range> ranges;
    if (info.format() == ImageFormat.QCOW2) {
      ranges = Range.split(toChannelExtents(reader.extents()), rangeSize);
    } else {
      // The file system's holes are never read; data is read and its zero blocks found then.
      List<Extent> holes = reader instanceof RawReader raw ? raw.allocation() : null;
      if (holes != null) {
        ranges = Range.split(toChannelExtents(holes), rangeSize);
      } else {
        ranges = Range.split(info.virtualSize(), rangeSize);
      }
    }
    if (j == null) {
      return ranges;
    }
    List<Range> todo = new ArrayList<>();
    for (Range r : ranges) {
      todo.addAll(j.remaining(r));
    }
    return todo;
  }

  private static List<DataChannel.Extent> toChannelExtents(List<Extent> extents) {
    List<DataChannel.Extent> out = new ArrayList<>(extents.size());
    for (Extent e : extents) {
      out.add(new DataChannel.Extent(e.start(), e.length(), e.zero()));
    }
    return out;
  }

  private TransferResult download(TransferRequest req) {
    long started = System.nanoTime();
    Path target = req.localPath().toAbsolutePath();
    LocalImage.checkTarget(target, req.force());
    Path part = partFile(target);
    checkInterrupted(null);
    Journal[] opened = new Journal[1];
    TransferSession session;
    try {
      session =
          backend.openDownload(
              req,
              listener,
              s ->
                  opened[0] =
                      early(
                          new Journal(
                              Journal.VERSION, s.transferId(), s.diskId(), Direction.DOWNLOAD,
                              backend.endpoint(), target.toString(), 0, 0, s.size(), false,
                              false, List.of(), System.currentTimeMillis())
                              .withFormat(req.format())));
    } catch (RuntimeException e) {
      forget(opened[0]);
      throw e;
    }
    return downloadInto(session, opened[0], target, part, req, started, false);
  }

  /**
   * Continues an interrupted transfer from its journal: the same transfer if the platform still
   * has it (resumed if paused), else a new one on the same disk; only the ranges not done move.
   */
  public TransferResult resume(String transferId, TransferRequest req) {
    if (journals == null) {
      throw new IllegalStateException("resume needs a journal store");
    }
    long started = System.nanoTime();
    Journal j =
        journals
            .load(transferId)
            .orElseThrow(
                () ->
                    DiskferryException.notFound(
                        "no journal of transfer " + transferId + " in " + journals.dir()
                            + "; nothing to resume"));
    if (!backend.endpoint().equals(j.endpoint())) {
      throw DiskferryException.badInput(
          "transfer " + transferId + " belongs to " + j.endpoint() + ", not "
              + backend.endpoint() + "; use --engine-url " + j.endpoint());
    }
    Path local = Path.of(j.localPath());
    if (j.direction() == Direction.UPLOAD) {
      checkUnchanged(j, local);
    } else {
      if (Files.exists(local) && !Files.exists(partFile(local))) {
        // Stopped after the file got its final name: the download was complete.
        journals.delete(transferId);
        listener.phase("download completed");
        return new TransferResult(
            j.direction(), j.transferId(), j.diskId(), "finished_success", j.size(), 0,
            seconds(started), 0, 0, null);
      }
      if (Files.exists(local) && !req.force()) {
        throw DiskferryException.badInput(local + " already exists; use --force to overwrite it");
      }
      if (!partUsable(j, local)) {
        // Killed before the partial file existed (or it was removed): the data is still on the
        // server, so start this download again from the beginning.
        if (j.bytesDone() > 0) {
          listener.warn(partFile(local) + " is missing or has the wrong size; downloading again");
        }
        j = j.restarted(System.currentTimeMillis());
      }
    }
    listener.phase("resuming transfer");
    Journal old = j;
    Journal[] moved = {j};
    TransferSession session;
    try {
      session =
          backend.reopen(
              j,
              req,
              listener,
              s -> {
                // A new transfer on the same disk: move the journal to it at once.
                moved[0] = early(old.withTransferId(s.transferId(), System.currentTimeMillis()));
                journals.delete(old.transferId());
              });
    } catch (TargetGoneException e) {
      // Nothing can ever continue this transfer: drop its journal (and a download's partial
      // file) so that status stops offering it, and say so.
      journals.delete(old.transferId());
      String also =
          j.direction() == Direction.DOWNLOAD && deletePart(partFile(local))
              ? " and " + partFile(local)
              : "";
      throw new TargetGoneException(e.getMessage() + " (removed its journal" + also + ")");
    }
    if (session == null) {
      // The platform finished it before we were stopped: nothing left to do.
      journals.delete(transferId);
      listener.phase((j.direction() == Direction.UPLOAD ? "upload" : "download") + " completed");
      return new TransferResult(
          j.direction(), j.transferId(), j.diskId(), "finished_success", j.size(), 0,
          seconds(started), 0, 0, null);
    }
    if (!session.transferId().equals(j.transferId())) {
      listener.info("continuing in new transfer " + session.transferId());
      j = moved[0];
    }
    if (j.direction() == Direction.UPLOAD) {
      ImageInfo info = ImageInspector.inspect(local);
      try (ImageReader reader = ImageReaders.open(info)) {
        return drive(
            session, j, plan(info, reader, req.rangeSize(), j), new UploadWork(reader, session),
            req, started, null, () -> verify(session, reader));
      } catch (IOException e) {
        abort(session, e);
        throw DiskferryException.badInput("cannot read " + local + ": " + e.getMessage());
      }
    }
    return downloadInto(session, j, local, partFile(local), req, started, true);
  }

  private TransferResult downloadInto(
      TransferSession session,
      Journal j,
      Path target,
      Path part,
      TransferRequest req,
      long started,
      boolean resumed) {
    List<DataChannel.Extent> extents;
    try {
      extents =
          session
              .data()
              .extents()
              .orElse(List.of(new DataChannel.Extent(0, session.size(), false)));
    } catch (IOException e) {
      extents = List.of(new DataChannel.Extent(0, session.size(), false));
    }
    extents = clip(extents, session.size());
    DownloadFile file;
    try {
      file = DownloadFile.open(j.format(), part, session.size(), extents, j.done().isEmpty());
    } catch (IOException | RuntimeException e) {
      abort(session, e);
      throw DiskferryException.failed("cannot write " + part + ": " + describe(e));
    }
    if (file.restarted()) {
      listener.warn(part + " does not match the disk's layout; downloading again");
      j = j.restarted(System.currentTimeMillis());
    }
    FileChannel out = file.file.channel();
    // The journal's checkpoints fsync the partial file from the heartbeat thread through a channel
    // of their own: a thread interrupted in FileChannel I/O closes the channel it used, and that
    // must never be the one the workers write to.
    try (file;
        FileChannel checkpoints = FileChannel.open(part, StandardOpenOption.WRITE)) {
      List<Range> todo = new ArrayList<>();
      for (Range r : Range.split(extents, req.rangeSize())) {
        todo.addAll(resumed ? j.remaining(r) : List.of(r));
      }
      return drive(
          session,
          j,
          todo,
          new DownloadWork(file, session),
          req,
          started,
          checkpoints,
          () -> {
            try {
              out.force(true);
              if (verify) {
                try (ImageReader local = ImageReaders.open(part)) {
                  verify(session, local);
                }
              }
            } catch (IOException e) {
              throw DiskferryException.failed("cannot write " + part + ": " + describe(e));
            }
          },
          // Only a finished transfer makes the file take its final name, so a file under that
          // name is always complete, and a partial file always has a journal that resumes it.
          () -> {
            try {
              moveIntoPlace(part, target, req.force() || resumed);
            } catch (IOException e) {
              throw DiskferryException.failed("cannot write " + target + ": " + e.getMessage());
            }
          },
          () -> deletePart(part));
    } catch (IOException e) {
      throw DiskferryException.failed("cannot write " + part + ": " + describe(e));
    }
  }

  private TransferResult drive(
      TransferSession session,
      Journal journal,
      List<Range> todo,
      RangeWork work,
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
  private TransferResult drive(
      TransferSession session,
      Journal journal,
      List<Range> todo,
      RangeWork work,
      TransferRequest req,
      long started,
      FileChannel localSync,
      Runnable beforeComplete,
      Runnable afterComplete,
      Runnable onAbort) {
    current = session;
    boolean upload = journal.direction() == Direction.UPLOAD;
    long size = upload ? covered(todo, journal) : session.size();
    JournalKeeper keeper =
        journals == null
            ? null
            : new JournalKeeper(
                journals,
                journal,
                upload
                    ? () -> withRetries("flush", () -> session.data().flush())
                    : () -> localSync.force(false),
                listener);
    try {
      if (keeper != null) {
        keeper.save();
      }
      checkInterrupted(session);
      int workers = Math.max(1, Math.min(req.workers(), session.maxConnections()));
      listener.phase(upload ? "uploading" : "downloading");
      long moved =
          moveRanges(session, todo, journal.bytesDone(), workers, req, work, keeper);
      checkInterrupted(session);
      listener.phase("finalizing transfer");
      if (upload) {
        withRetries("flush", () -> session.data().flush());
      }
      beforeComplete.run();
      String phase = session.complete(listener);
      afterComplete.run();
      if (keeper != null) {
        keeper.delete();
      }
      listener.phase((upload ? "upload" : "download") + " completed");
      return new TransferResult(
          journal.direction(), session.transferId(), session.diskId(), phase, size,
          moved, seconds(started), workers, retries.get(), checksum);
    } catch (TransferInterruptedException e) {
      if (keeper != null && !cancelOnInterrupt) {
        suspend(session, keeper);
        throw new TransferInterruptedException(
            interruptReason.get() + "; transfer " + session.transferId()
                + " is suspended: run 'diskferry resume " + session.transferId()
                + "' to continue or 'diskferry cancel " + session.transferId() + "' to drop it",
            session.transferId());
      }
      end(session, keeper, e, onAbort);
      throw e;
    } catch (RetriesExhausted e) {
      if (keeper != null && !cancelOnInterrupt) {
        suspend(session, keeper);
        throw DiskferryException.transientFailure(
            "transfer " + session.transferId() + ": " + e.getMessage()
                + "; run 'diskferry resume " + session.transferId() + "' to continue",
            e);
      }
      end(session, keeper, e, onAbort);
      throw DiskferryException.failed(
          "transfer " + session.transferId() + " failed while moving data: " + e.getMessage()
              + (e.getCause() instanceof java.net.SocketException
                  ? " (the data connection to the server was lost)"
                  : ""));
    } catch (RuntimeException | Error e) {
      end(session, keeper, e, onAbort);
      throw e;
    } finally {
      current = null;
    }
  }

  private String checksum;

  /**
   * With {@code --verify}: the server's blkhash of the disk against the same hash of the local
   * image (one more read of the data on each side). Throws on a mismatch.
   */
  private void verify(TransferSession session, ImageReader local) {
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
    abort(session, cause);
    onAbort.run();
    if (keeper != null) {
      try {
        keeper.delete();
      } catch (RuntimeException e) {
        listener.warn(e.getMessage());
      }
    }
  }

  /** Removes a partial file; true when there was one. A failure is only a warning. */
  private boolean deletePart(Path part) {
    try {
      return Files.deleteIfExists(part);
    } catch (IOException e) {
      listener.warn("cannot remove " + part + ": " + e.getMessage());
      return false;
    }
  }

  /**
   * Saves the journal of a transfer the platform just created, before it is ready, so that a
   * process killed while waiting still leaves a way to resume or cancel it.
   */
  private Journal early(Journal j) {
    if (journals != null) {
      save(j);
    }
    return j;
  }

  /** Drops the journal of a transfer that could not be opened (the backend ended it). */
  private void forget(Journal j) {
    if (j != null && journals != null) {
      try {
        journals.delete(j.transferId());
      } catch (RuntimeException e) {
        listener.warn(e.getMessage());
      }
    }
  }

  private void save(Journal j) {
    try {
      journals.save(j);
    } catch (IOException e) {
      throw DiskferryException.failed("cannot save the journal: " + e.getMessage());
    }
  }

  static Path partFile(Path target) {
    return target.resolveSibling(target.getFileName() + ".part");
  }

  private static long modified(Path p) {
    try {
      return Files.getLastModifiedTime(p).toMillis();
    } catch (IOException e) {
      throw DiskferryException.badInput("cannot read " + p + ": " + e.getMessage());
    }
  }

  private static void checkUnchanged(Journal j, Path src) {
    if (!Files.isRegularFile(src)) {
      throw DiskferryException.badInput(
          src + " is gone; transfer " + j.transferId() + " cannot be resumed (cancel it with"
              + " 'diskferry cancel " + j.transferId() + "')");
    }
    try {
      if (Files.size(src) != j.localSize()
          || Files.getLastModifiedTime(src).toMillis() != j.localModified()) {
        throw DiskferryException.badInput(
            src + " changed since transfer " + j.transferId() + " began (size or modification"
                + " time differ); it cannot be resumed: cancel it with 'diskferry cancel "
                + j.transferId() + "' and upload again");
      }
    } catch (IOException e) {
      throw DiskferryException.badInput("cannot read " + src + ": " + e.getMessage());
    }
  }

  /**
   * True when the partial file of a download is there with the disk's size (raw), or at all
   * (qcow2: its layout is checked once the disk's extents are known).
   */
  private static boolean partUsable(Journal j, Path target) {
    Path part = partFile(target);
    try {
      return Files.isRegularFile(part) && (j.qcow2() || Files.size(part) == j.size());
    } catch (IOException e) {
      return false;
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

  /** A worker left a range unfinished because the transfer is being interrupted. */
  private static final class Stopped extends RuntimeException {
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

  /** Session recoveries allowed per transfer (a paused_system transfer resumed, and so on). */
  static final int MAX_RECOVERIES = 3;

  private int recoveries;
  private long lastRecovery;

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
      boolean ok = session.recover(listener);
      lastRecovery = System.nanoTime();
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
      int bufferSize = (int) Math.min(req.bufferSize(), Math.max(4096, req.rangeSize()));
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
    private final ImageReader in;
    private final TransferSession session;

    UploadWork(ImageReader in, TransferSession session) {
      this.in = in;
      this.session = session;
    }

    @Override
    public long move(Range range, ByteBuffer buffer, LongConsumer moved) throws IOException {
      DataChannel data = session.data();
      if (range.zero()) {
        zero(data, range.start(), range.length());
        moved.accept(range.length());
        return 0;
      }
      long sent = 0;
      long zeroStart = -1;
      long pos = range.start();
      while (pos < range.end()) {
        if (interruptReason.get() != null) {
          throw new Stopped();
        }
        int n = (int) Math.min(buffer.capacity(), range.end() - pos);
        buffer.clear().limit(n);
        readFully(in, buffer, pos);
        buffer.flip();
        // Zeros at either end of the buffer, in 64 KiB blocks, are not sent either: data at odd
        // places in a sparse image then costs the disk about its own size, not whole buffers.
        int first = 0;
        while (first < n && blockIsZero(buffer, first, n)) {
          first += TRIM_BLOCK;
        }
        if (first >= n) {
          if (zeroStart < 0) {
            zeroStart = pos;
          }
        } else {
          int last = ((n - 1) / TRIM_BLOCK) * TRIM_BLOCK;
          while (last > first && blockIsZero(buffer, last, n)) {
            last -= TRIM_BLOCK;
          }
          int end = Math.min(n, last + TRIM_BLOCK);
          if (first > 0 && zeroStart < 0) {
            zeroStart = pos;
          }
          if (zeroStart >= 0) {
            zero(data, zeroStart, pos + first - zeroStart);
            zeroStart = -1;
          }
          long at = pos + first;
          ByteBuffer part = buffer.duplicate().limit(end).position(first);
          withRetries(
              "PUT bytes " + at + "-" + (pos + end - 1),
              () -> data.write(at, part.duplicate()));
          sent += end - first;
          if (end < n) {
            zeroStart = pos + end;
          }
        }
        pos += n;
        moved.accept(n);
      }
      if (zeroStart >= 0) {
        zero(data, zeroStart, range.end() - zeroStart);
      }
      return sent;
    }

    private static final int TRIM_BLOCK = 64 << 10;

    private static boolean blockIsZero(ByteBuffer buffer, int from, int limit) {
      return ZeroBlocks.isZero(
          buffer.duplicate().limit(Math.min(limit, from + TRIM_BLOCK)).position(from));
    }

    private void zero(DataChannel data, long start, long length) {
      if (!session.targetReadsAsZeros()) {
        withRetries(
            "zero bytes " + start + "-" + (start + length - 1), () -> data.zero(start, length));
      }
    }
  }

  /** Fetches data ranges into the target file; zero ranges are never requested nor written. */
  private final class DownloadWork implements RangeWork {
    private final DownloadFile out;
    private final TransferSession session;

    DownloadWork(DownloadFile out, TransferSession session) {
      this.out = out;
      this.session = session;
    }

    @Override
    public long move(Range range, ByteBuffer buffer, LongConsumer moved) throws IOException {
      if (!range.zero()) {
        withRetries(
            "GET bytes " + range.start() + "-" + (range.end() - 1),
            () ->
                session
                    .data()
                    .read(
                        range.start(), range.length(), out.file,
                        out.offset(range.start(), range.length()), buffer));
      }
      moved.accept(range.length());
      return range.zero() ? 0 : range.length();
    }
  }

  private static void readFully(ImageReader in, ByteBuffer buf, long pos) throws IOException {
    long p = pos;
    while (buf.hasRemaining()) {
      int n = in.read(p, buf);
      if (n < 0) {
        throw new EOFException("the source image shrank while it was being read");
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
