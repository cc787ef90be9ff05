package org.diskferry.transfer;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import org.diskferry.error.DiskferryException;
import org.diskferry.image.ImageInfo;
import org.diskferry.image.ImageInspector;
import org.diskferry.image.ImageReader;
import org.diskferry.image.ImageReaders;
import org.diskferry.image.Qcow2Writer;
import org.diskferry.image.SourceFile;

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
 *
 * <p>This class opens sessions and says what their ranges and work are ({@link UploadWork},
 * {@link DownloadWork}); a {@link SessionDriver} takes each session to its end, its {@link
 * WorkerPool} moves the data, and {@link LocalFiles} keeps the local files in order.
 */
public final class Orchestrator {

  private final Backend backend;
  private final TransferListener listener;
  private final JournalStore journals;
  private final WorkerPool pool;
  private final SessionDriver driver;
  /** The direction of the transfer being run (for {@link #stopNow}). */
  private volatile Direction direction;

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
    this.journals = journals;
    this.pool = new WorkerPool(listener, retry);
    this.driver =
        new SessionDriver(listener, journals, cancelOnInterrupt || journals == null, pool);
  }

  /**
   * Compares the server's checksum of the disk with one computed locally before a transfer is
   * finalized; a mismatch fails the transfer (an upload is cancelled).
   */
  public Orchestrator verifyChecksums(boolean on) {
    driver.verifyChecksums(on);
    return this;
  }

  /**
   * Asks a running transfer to stop at the next buffer boundary; {@link #run} then suspends or
   * ends the session and throws {@link TransferInterruptedException}.
   */
  public void interrupt(String reason) {
    pool.interrupt(reason);
  }

  /**
   * Stops now, when waiting for {@link #interrupt} to take its course is not wanted (a second
   * signal): ends the open session on the platform as an interrupt would (a download finalized,
   * an upload paused, or cancelled without journals), waiting at most {@code deadline}, and says
   * in one line what was left. Safe to call from any thread while {@link #run} goes on; the
   * caller ends the process afterwards.
   */
  public String stopNow(String reason, java.time.Duration deadline) {
    pool.interrupt(reason);
    TransferSession s = pool.current();
    if (s == null) {
      return reason + "; no transfer was open";
    }
    String id = s.transferId();
    boolean suspend = driver.suspendsOnInterrupt();
    boolean upload = direction == Direction.UPLOAD;
    java.util.concurrent.CompletableFuture<Void> ended =
        java.util.concurrent.CompletableFuture.runAsync(
            () -> {
              TransferListener quiet = new TransferListener() {};
              if (suspend) {
                s.suspend(quiet);
              } else {
                s.abort(new TransferInterruptedException(reason, id), quiet);
              }
            },
            r -> {
              Thread t = new Thread(r, "diskferry-stop");
              t.setDaemon(true);
              t.start();
            });
    try {
      ended.get(deadline.toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS);
    } catch (java.util.concurrent.TimeoutException e) {
      return reason + "; transfer " + id + " did not end within " + deadline.toSeconds()
          + " s: check it with 'diskferry status " + id + "' and end it with 'diskferry cancel "
          + id + "'";
    } catch (java.util.concurrent.ExecutionException | InterruptedException e) {
      Throwable c = e instanceof java.util.concurrent.ExecutionException ? e.getCause() : e;
      return reason + "; could not end transfer " + id + " (" + WorkerPool.describe(c)
          + "): check it with 'diskferry status " + id + "' and end it with 'diskferry cancel "
          + id + "'";
    }
    if (!suspend) {
      return reason + "; transfer " + id + " was " + (upload ? "cancelled" : "finalized");
    }
    return reason + "; transfer " + id + " was " + (upload ? "paused" : "finalized")
        + ": run 'diskferry resume " + id + "' to continue or 'diskferry cancel " + id
        + "' to drop it";
  }

  /** The session being driven, if one is open (for signal handlers that want to report its id). */
  public TransferSession currentSession() {
    return pool.current();
  }

  public TransferResult run(TransferRequest request) {
    direction = request.direction();
    return request.direction() == Direction.UPLOAD ? upload(request) : download(request);
  }

  private TransferResult upload(TransferRequest req) {
    long started = System.nanoTime();
    listener.phase("inspecting image");
    Path src = req.localPath();
    ImageInfo info = ImageInspector.inspect(src);
    SourceFile source = SourceFile.of(src);
    long size = info.virtualSize();
    long fileSize = info.fileSize();
    long modified = LocalFiles.modified(src);
    if (req.format() == null) {
      req = req.withFormat(info.format().diskFormat());
    }
    try (ImageReader reader = ImageReaders.open(info)) {
      pool.checkInterrupted(null);
      checkJournals();
      Journal[] opened = new Journal[1];
      TransferSession session;
      ImageSizing sizing = ImageSizing.of(info, reader, req);
      // Planned before anything exists on the platform: a table that cannot be read fails here.
      List<Range> ranges = UploadWork.plan(info, reader, req.rangeSize(), null);
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
        forgetUnlessLeft(opened[0], e);
        throw explainLock(e, null);
      }
      return driver.drive(
          session, opened[0], ranges,
          new UploadWork(pool, reader, session, source), req, started, null,
          () -> {
            source.checkUnchanged();
            driver.verify(session, reader);
          });
    } catch (IOException e) {
      throw DiskferryException.badInput("cannot read " + src + ": " + e.getMessage());
    }
  }

  private TransferResult download(TransferRequest req) {
    return download(req, null);
  }

  /**
   * Downloads the disk of an incremental backup (the backend's sessions are {@link ChangedBlocks})
   * into a qcow2 overlay of {@code backingFile} that holds only what changed since the backup's
   * checkpoint: see {@link IncrementalLayout}.
   *
   * @param backingFile the name the overlay's header records (relative to its folder)
   */
  public TransferResult downloadChanges(TransferRequest req, String backingFile) {
    return download(req, backingFile);
  }

  private TransferResult download(TransferRequest req, String backingFile) {
    long started = System.nanoTime();
    Path target = req.localPath().toAbsolutePath();
    LocalImage.checkTarget(target, req.force());
    try (TargetLock lock = lockTarget(target)) {
      return download(req, target, started, backingFile);
    }
  }

  /** Holds the target of a download for this run (with journals; see {@link TargetLock}). */
  private TargetLock lockTarget(Path target) {
    return journals == null ? null : TargetLock.acquire(journals, target);
  }

  private TransferResult download(
      TransferRequest req, Path target, long started, String backingFile) {
    Path part = LocalFiles.partFile(target);
    pool.checkInterrupted(null);
    checkJournals();
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
      forgetUnlessLeft(opened[0], e);
      throw explainLock(e, null);
    }
    if (backingFile != null) {
      return changesInto(session, opened[0], target, part, req, started, backingFile);
    }
    return downloadInto(session, opened[0], target, part, req, started, false);
  }

  private TransferResult changesInto(
      TransferSession session,
      Journal j,
      Path target,
      Path part,
      TransferRequest req,
      long started,
      String backingFile) {
    IncrementalLayout layout;
    Qcow2Writer qcow2;
    try {
      if (!(session instanceof ChangedBlocks changed)) {
        throw new IOException("the platform cannot tell which blocks changed");
      }
      if (session.size() % 512 != 0) {
        throw new IOException(
            "the disk's size (" + session.size() + " bytes) is not a multiple of 512");
      }
      long cluster = 1L << Qcow2Writer.DEFAULT_CLUSTER_BITS;
      layout = IncrementalLayout.of(changed.changes(), session.size(), cluster);
      qcow2 =
          Qcow2Writer.planOverlay(
              session.size(), layout.data, layout.zeroed, backingFile, "qcow2");
    } catch (IOException | RuntimeException e) {
      driver.abort(session, e);
      throw DiskferryException.failed(
          "cannot back up the changes of disk " + session.diskId() + ": "
              + WorkerPool.describe(e));
    }
    listener.info(
        "disk " + session.diskId() + ": " + layout.dataBytes() + " bytes changed, "
            + qcow2.zeroClusters() + " clusters zeroed");
    return downloadInto(
        session, j, target, part, req, started, false, layout.coverage(),
        () -> DownloadFile.overlay(part, qcow2));
  }

  /**
   * Continues an interrupted transfer from its journal: the same transfer if the platform still
   * has it (resumed if paused), else a new one on the same disk; only the ranges not done move.
   */
  public TransferResult resume(String transferId, TransferRequest req) {
    if (journals == null) {
      throw new IllegalStateException("resume needs a journal store");
    }
    checkJournals();
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
    direction = j.direction();
    if (j.direction() == Direction.DOWNLOAD) {
      try (TargetLock lock = lockTarget(Path.of(j.localPath()))) {
        return resume(j, req, started);
      }
    }
    return resume(j, req, started);
  }

  private TransferResult resume(Journal j, TransferRequest req, long started) {
    String transferId = j.transferId();
    Path local = Path.of(j.localPath());
    if (j.direction() == Direction.UPLOAD) {
      LocalFiles.checkUnchanged(j, local);
    } else {
      try {
        LocalImage.checkFormatFits(j.format(), j.size(), j.diskId());
      } catch (DiskferryException e) {
        // Left by an older version, which created the transfer before it knew: kept for the
        // person to look at and drop, and named so that it does not fail resume --all unseen.
        throw DiskferryException.failed(
                "journal " + journals.file(transferId) + " cannot be resumed: " + e.getMessage())
            .transfer(transferId, DiskferryException.Hint.CANCEL);
      }
      if (Files.exists(local) && !Files.exists(LocalFiles.partFile(local))) {
        // Stopped after the file got its final name: the download was complete.
        journals.delete(transferId);
        listener.phase("download completed");
        return new TransferResult(
            j.direction(), j.transferId(), j.diskId(), "finished_success", j.size(), 0,
            SessionDriver.seconds(started), 0, 0, null, j.size(), 0);
      }
      if (Files.exists(local) && !req.force()) {
        throw DiskferryException.badInput(local + " already exists; use --force to overwrite it");
      }
      if (!LocalFiles.partUsable(j, local)) {
        // Killed before the partial file existed (or it was removed): the data is still on the
        // server, so start this download again from the beginning.
        if (j.bytesDone() > 0) {
          listener.warn(
              LocalFiles.partFile(local) + " is missing or has the wrong size; downloading again");
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
          j.direction() == Direction.DOWNLOAD
                  && LocalFiles.deletePart(LocalFiles.partFile(local), listener)
              ? " and " + LocalFiles.partFile(local)
              : "";
      throw new TargetGoneException(e.getMessage() + " (removed its journal" + also + ")");
    } catch (DiskLockedException e) {
      throw explainLock(e, old.transferId());
    }
    if (session == null) {
      // The platform finished it before we were stopped: nothing left to do.
      journals.delete(transferId);
      listener.phase((j.direction() == Direction.UPLOAD ? "upload" : "download") + " completed");
      return new TransferResult(
          j.direction(), j.transferId(), j.diskId(), "finished_success", j.size(), 0,
          SessionDriver.seconds(started), 0, 0, null, j.size(), 0);
    }
    if (!session.transferId().equals(j.transferId())) {
      listener.info("continuing in new transfer " + session.transferId());
      j = moved[0];
    }
    if (j.direction() == Direction.UPLOAD) {
      ImageInfo info = ImageInspector.inspect(local);
      SourceFile source = SourceFile.of(local);
      try (ImageReader reader = ImageReaders.open(info)) {
        return driver.drive(
            session, j, UploadWork.plan(info, reader, req.rangeSize(), j),
            new UploadWork(pool, reader, session, source), req, started, null,
            () -> {
              source.checkUnchanged();
              driver.verify(session, reader);
            });
      } catch (IOException e) {
        driver.abort(session, e);
        throw DiskferryException.badInput("cannot read " + local + ": " + e.getMessage());
      }
    }
    return downloadInto(session, j, local, LocalFiles.partFile(local), req, started, true);
  }

  private TransferResult downloadInto(
      TransferSession session,
      Journal j,
      Path target,
      Path part,
      TransferRequest req,
      long started,
      boolean resumed) {
    List<DataChannel.Extent> extents = DownloadWork.extents(session);
    return downloadInto(
        session, j, target, part, req, started, resumed, extents,
        () -> DownloadFile.open(j.format(), part, session.size(), extents, j.done().isEmpty()));
  }

  /** Opens the partial file of a download. */
  private interface FileOpener {
    DownloadFile open() throws IOException;
  }

  private TransferResult downloadInto(
      TransferSession session,
      Journal j,
      Path target,
      Path part,
      TransferRequest req,
      long started,
      boolean resumed,
      List<DataChannel.Extent> extents,
      FileOpener opener) {
    DownloadFile file;
    try {
      file = opener.open();
    } catch (IOException | RuntimeException e) {
      driver.abort(session, e);
      if (!j.done().isEmpty()) {
        throw DiskferryException.failed(
                "cannot write " + part + ": " + WorkerPool.describe(e)
                    + " (the ranges done are kept)")
            .transfer(session.transferId(), DiskferryException.Hint.RESUME);
      }
      // Nothing done to keep: a resume would only fail the same way, so nothing offers one.
      LocalFiles.deletePart(part, listener);
      forget(j);
      if (e instanceof IOException io) {
        throw LocalFiles.writeFailed(
            new LocalWriteException(part, io), part, DownloadWork.dataBytes(extents),
            session.transferId());
      }
      throw DiskferryException.failed("cannot write " + part + ": " + WorkerPool.describe(e));
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
      try {
        return driver.drive(
          session,
          j,
          todo,
          new DownloadWork(pool, file, session),
          req,
          started,
          checkpoints,
          () -> {
            try {
              out.force(true);
              if (driver.verifiesChecksums()) {
                try (ImageReader local = ImageReaders.open(part)) {
                  driver.verify(session, local);
                }
              }
            } catch (IOException e) {
              throw DiskferryException.failed(
                  "cannot write " + part + ": " + WorkerPool.describe(e));
            }
          },
          // Only a finished transfer makes the file take its final name, so a file under that
          // name is always complete, and a partial file always has a journal that resumes it.
          () -> LocalFiles.finishDownload(part, target, req.force()),
          () -> LocalFiles.deletePart(part, listener));
      } catch (LocalWriteException e) {
        // The driver ended the transfer and removed the partial file and its journal: writing
        // again cannot succeed until the person frees space (or mends the disk).
        throw LocalFiles.writeFailed(e, part, DownloadWork.dataBytes(extents), session.transferId());
      }
    } catch (IOException e) {
      throw DiskferryException.failed("cannot write " + part + ": " + WorkerPool.describe(e));
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

  /**
   * A disk locked by a transfer that diskferry suspended (its journal is here) stays locked until
   * that transfer is resumed or cancelled, so "try again later" would never come true: name it.
   *
   * @param self the journal being resumed, which is not its own blocker
   */
  private RuntimeException explainLock(RuntimeException e, String self) {
    if (!(e instanceof DiskLockedException locked) || journals == null) {
      return e;
    }
    List<Journal> holders;
    try {
      holders =
          journals.list().stream()
              .filter(j -> locked.diskId().equals(j.diskId()) && !j.transferId().equals(self))
              .toList();
    } catch (RuntimeException ignored) {
      return e;
    }
    if (holders.isEmpty()) {
      return e;
    }
    Journal j = holders.get(holders.size() - 1);
    String id = j.transferId();
    return new DiskLockedException(
        locked.diskId(),
        "disk " + locked.diskId() + " is locked by transfer " + id + ", "
            + (j.direction() == Direction.UPLOAD ? "an upload of " : "a download to ")
            + j.localPath() + " that diskferry suspended: run"
            + " 'diskferry resume " + id + "' to finish it or 'diskferry cancel " + id
            + "' to drop it");
  }

  /**
   * Before anything is created on the platform: a journal that cannot be saved would leave a
   * disk or a transfer that neither {@code status} nor {@code cancel} knows of.
   */
  private void checkJournals() {
    if (journals != null) {
      journals.checkWritable();
    }
  }

  /**
   * Drops the journal of a transfer that could not be opened, unless ending it failed: then the
   * journal is what lets {@code status} show it and {@code cancel} remove it.
   */
  private void forgetUnlessLeft(Journal j, RuntimeException failure) {
    if (!(failure instanceof CleanupFailedException)) {
      forget(j);
    }
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
}
