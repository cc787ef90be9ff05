package org.diskferry.glance;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import okhttp3.Response;
import okio.BufferedSource;
import org.diskferry.error.DiskferryException;
import org.diskferry.transfer.Direction;
import org.diskferry.transfer.Journal;
import org.diskferry.transfer.JournalStore;
import org.diskferry.transfer.LocalFiles;
import org.diskferry.transfer.LocalWriteException;
import org.diskferry.transfer.TargetLock;
import org.diskferry.transfer.TransferInterruptedException;
import org.diskferry.transfer.TransferListener;
import org.diskferry.transfer.UncachedFile;

/**
 * Downloads a Glance image into {@code FILE.part} (sparse: zero blocks are not written), resuming
 * with {@code Range} requests after a dropped connection, checks the image's checksum, fsyncs and
 * renames the file into place. A journal (keyed by the image id and the target file) lets {@code diskferry resume}
 * continue after the process stopped.
 */
public final class GlanceDownload {

  /** The journal endpoint prefix that marks a Glance download. */
  public static final String JOURNAL_PREFIX = "glance:";

  private static final long SYNC_EVERY = 256L << 20;

  private final GlanceClient glance;
  private final TransferListener listener;
  private final JournalStore journals;
  private final String cloud;
  private int retries = 5;
  private int bufferSize = 4 << 20;
  private long retryDelayMillis = 500;
  private boolean force;
  private volatile boolean interrupted;
  private volatile String interruptReason;

  public GlanceDownload(
      GlanceClient glance, TransferListener listener, JournalStore journals, String cloud) {
    this.glance = glance;
    this.listener = listener;
    this.journals = journals;
    this.cloud = cloud;
  }

  public GlanceDownload retries(int n, long firstDelayMillis) {
    retries = n;
    retryDelayMillis = firstDelayMillis;
    return this;
  }

  /** Whether the final rename may replace a file that appeared under the target's name. */
  public GlanceDownload force(boolean on) {
    force = on;
    return this;
  }

  public GlanceDownload bufferSize(int n) {
    bufferSize = n;
    return this;
  }

  /** Asks a running download to stop; its journal is kept for {@code resume}. */
  public void interrupt(String reason) {
    interruptReason = reason;
    interrupted = true;
    glance.cancel();
  }

  /** Downloads the image {@code idOrName} to {@code target}. */
  public GlanceResult run(String idOrName, Path target) {
    GlanceImage image = glance.resolve(idOrName);
    checkDownloadable(image);
    Path abs = target.toAbsolutePath();
    try (TargetLock lock = TargetLock.acquire(journals, abs)) {
      long now = System.currentTimeMillis();
      Journal j = new Journal(
          Journal.VERSION, journalId(image.id(), abs), image.id(), Direction.DOWNLOAD,
          JOURNAL_PREFIX + cloud, abs.toString(), 0, 0, image.size(), false, false, List.of(),
          now);
      save(j);
      return fetch(image, j, 0);
    }
  }

  /**
   * The id of the journal of a download of {@code imageId} to {@code target}: the image id and a
   * short hash of the target's absolute path, so that downloads of one image to two files keep
   * two journals. (Journals written before were keyed by the image id alone; they still load.)
   */
  public static String journalId(String imageId, Path target) {
    try {
      byte[] h = MessageDigest.getInstance("SHA-256")
          .digest(target.toAbsolutePath().toString().getBytes(StandardCharsets.UTF_8));
      return imageId + "." + HexFormat.of().formatHex(h, 0, 4);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /** Continues the download recorded in a journal. */
  public GlanceResult resume(Journal j) {
    try (TargetLock lock = TargetLock.acquire(journals, Path.of(j.localPath()))) {
      return resumeLocked(j);
    }
  }

  private GlanceResult resumeLocked(Journal j) {
    Path part = j.partFile();
    GlanceImage image = glance.find(j.diskId()).orElse(null);
    if (image == null) {
      forget(j, part);
      throw DiskferryException.notFound(
          "image " + j.diskId() + " no longer exists; removed the partial download " + part);
    }
    checkDownloadable(image);
    if (image.size() != j.size()) {
      forget(j, part);
      throw DiskferryException.conflict(
          "image " + image.id() + " changed size since the download began; start it again");
    }
    if (Files.exists(Path.of(j.localPath())) && !Files.exists(part)) {
      journals.delete(j.transferId());
      throw DiskferryException.conflict(
          j.localPath() + " exists and has no .part: the download of image " + image.id()
              + " had finished; removed its journal");
    }
    long from = Files.exists(part) ? Math.min(j.bytesDone(), sizeOf(part)) : 0;
    if (from > 0 && j.done().size() == 1 && j.done().get(0)[0] == 0) {
      listener.info("resuming image " + image.id() + " at byte " + from);
    } else {
      from = 0;
    }
    return fetch(image, j, from);
  }

  private static long sizeOf(Path p) {
    try {
      return Files.size(p);
    } catch (IOException e) {
      return 0;
    }
  }

  private static void checkDownloadable(GlanceImage image) {
    if (!"active".equals(image.status())) {
      throw DiskferryException.conflict(
          "image " + image.id() + " is " + image.status() + ", not active; it has no data to"
              + " download yet");
    }
    if (image.size() == null) {
      throw DiskferryException.conflict("image " + image.id() + " has no size; no data");
    }
  }

  /** The digest to check: the image's os_hash_algo if Java has it, else md5. */
  private static Check check(GlanceImage image) {
    if (image.hashAlgo() != null && image.hashValue() != null) {
      String algo = switch (image.hashAlgo().toLowerCase(Locale.ROOT)) {
        case "sha512" -> "SHA-512";
        case "sha384" -> "SHA-384";
        case "sha256" -> "SHA-256";
        case "sha1" -> "SHA-1";
        default -> null;
      };
      if (algo != null) {
        return new Check(image.hashAlgo(), algo, image.hashValue());
      }
    }
    if (image.checksum() != null) {
      return new Check("md5", "MD5", image.checksum());
    }
    return null;
  }

  private record Check(String name, String javaName, String expected) {
    MessageDigest digest() {
      try {
        return MessageDigest.getInstance(javaName);
      } catch (NoSuchAlgorithmException e) {
        throw DiskferryException.failed("this Java has no " + javaName + " to check the image");
      }
    }
  }

  private GlanceResult fetch(GlanceImage image, Journal journal, long from) {
    long start = System.nanoTime();
    long size = image.size();
    Path target = Path.of(journal.localPath());
    Path part = journal.partFile();
    Check check = check(image);
    listener.phase("downloading");
    String actual;
    DigestPipeline hashing = null;
    try (UncachedFile out = UncachedFile.open(part);
        BackgroundSync sync = new BackgroundSync(out.channel(), journal)) {
      FileChannel ch = out.channel();
      if (ch.size() > from) {
        ch.truncate(from);
      }
      MessageDigest digest = check == null ? null : check.digest();
      if (digest != null && from > 0) {
        hashPrefix(ch, from, digest);
      }
      Written written = new Written(from);
      hashing = pipeline(digest, out, written);
      long pos = from;
      long delay = retryDelayMillis;
      int attempt = 0;
      while (pos < size) {
        checkInterrupted(journal, hashing, sync, written);
        long asked = pos;
        try (Response resp = glance.openData(image.id(), asked)) {
          int code = resp.code();
          if (asked > 0 && (code == 200 || code == 400)) {
            // The store cannot read from an offset (rbd, swift, s3, http): start over.
            listener.info("the image's store does not serve ranges (" + code + "); starting over");
            hashing.drain();
            hashing.close();
            sync.await();
            pos = 0;
            ch.truncate(0);
            written = new Written(0);
            hashing = pipeline(check == null ? null : check.digest(), out, written);
            if (code == 400) {
              continue;
            }
          } else if (code == 404 || code == 410) {
            quiesce(hashing);
            sync.await();
            forget(journal, part);
            throw DiskferryException.notFound(
                "image " + image.id() + " was deleted during the download (" + code
                    + "); removed the partial file");
          } else if (code == 204) {
            throw DiskferryException.conflict("image " + image.id() + " has no data (204)");
          } else if (code >= 500) {
            throw new IOException("glance answered " + code);
          } else if (code != 200 && code != 206) {
            throw GlanceErrors.of(resp, "download image " + image.id());
          } else if (code == 206) {
            String range = resp.header("Content-Range", "");
            if (!range.startsWith("bytes " + asked + "-")) {
              throw DiskferryException.failed(
                  "glance answered the range request from " + asked + " with '" + range + "'");
            }
          }
          BufferedSource src = resp.body().source();
          while (pos < size) {
            if (interrupted) {
              throw new IOException("interrupted");
            }
            byte[] buf = hashing.next();
            int n = fill(src, buf, (int) Math.min(buf.length, size - pos));
            if (n <= 0) {
              throw new IOException("the data ended at byte " + pos + " of " + size);
            }
            hashing.submit(n, pos);
            pos += n;
            listener.progress(pos, size);
            sync.written(written.upTo);
            attempt = 0;
          }
        } catch (IOException e) {
          checkInterrupted(journal, hashing, sync, written);
          if (attempt >= retries) {
            suspend(journal, hashing, sync, written);
            throw DiskferryException.transientFailure(
                "download of image " + image.id() + " failed at byte " + pos + " of " + size + ": "
                    + GlanceClient.describe(e), e)
                .transfer(journal.transferId());
          }
          attempt++;
          listener.retry("download of image " + image.id() + " from byte " + pos, attempt, e);
          GlanceUpload.sleep(delay);
          delay = Math.min(delay * 2, 15_000);
        }
      }
      hashing.drain();
      if (ch.size() < size) {
        ch.write(ByteBuffer.allocate(1), size - 1);
      }
      listener.phase("flushing");
      sync.await();
      out.force(true);
      List<String> hex = hashing.finish();
      actual = hex.isEmpty() ? null : hex.get(0);
    } catch (IOException | UncheckedIOException | LocalWriteException e) {
      // Local: the partial file could not be written (a full, read-only or failing disk). No
      // retry or resume can mend that, so the partial file and its journal go.
      LocalWriteException local = e instanceof LocalWriteException l ? l
          : new LocalWriteException(part,
              e instanceof UncheckedIOException u ? u.getCause() : (IOException) e);
      if (hashing != null) {
        quiesce(hashing);
      }
      forget(journal, part);
      throw LocalFiles.writeFailed(local, part, size, null);
    } finally {
      if (hashing != null) {
        hashing.close();
      }
    }
    if (check != null && !check.expected().equalsIgnoreCase(actual)) {
      forget(journal, part);
      throw DiskferryException.failed(
          "checksum mismatch: image " + image.id() + " has " + check.name() + " "
              + check.expected() + " but the data received has " + actual
              + "; removed the partial file");
    }
    if (check == null) {
      listener.warn("image " + image.id() + " has no checksum; the download is not verified");
    }
    try {
      LocalFiles.finishDownload(part, target, force);
    } finally {
      journals.delete(journal.transferId());
    }
    return new GlanceResult(
        false, image, target, size, (System.nanoTime() - start) / 1e9,
        check != null && check.name().equals("md5") ? actual : null,
        check != null && check.name().equals("sha512") ? actual : null,
        check != null, null);
  }

  /** How far the file is written: every byte before {@code upTo} (writes happen in order). */
  private static final class Written {
    volatile long upTo;

    Written(long upTo) {
      this.upTo = upTo;
    }
  }

  /**
   * Hashes each buffer and writes it on a thread of its own while the next one arrives; all-zero
   * buffers are not written (the file stays sparse there).
   */
  private DigestPipeline pipeline(MessageDigest digest, UncachedFile out, Written written) {
    byte[] zeros = new byte[bufferSize];
    DigestPipeline.Writer writer = (buf, n, at) -> {
      if (Arrays.mismatch(buf, 0, n, zeros, 0, n) != -1) {
        out.write(buf, 0, n, at);
      }
      written.upTo = at + n;
    };
    return new DigestPipeline(
        digest == null ? List.of() : List.of(digest), writer, 4, bufferSize);
  }

  /** Lets the writer finish before the partial file goes away; its failure no longer matters. */
  private static void quiesce(DigestPipeline hashing) {
    try {
      hashing.drain();
    } catch (IOException | RuntimeException e) {
      // the file is removed next
    }
  }

  /**
   * Flushes the partial file to disk in the background every {@link #SYNC_EVERY} bytes and then
   * records the flushed length in the journal, so the stream never waits for the disk and a
   * resume after a crash finds what the journal promises.
   */
  private final class BackgroundSync implements AutoCloseable {
    private final FileChannel ch;
    private final Journal journal;
    private final java.util.concurrent.ExecutorService thread =
        java.util.concurrent.Executors.newSingleThreadExecutor(r -> {
          Thread t = new Thread(r, "diskferry-fsync");
          t.setDaemon(true);
          return t;
        });
    private java.util.concurrent.Future<?> running;
    private long requested;

    BackgroundSync(FileChannel ch, Journal journal) {
      this.ch = ch;
      this.journal = journal;
    }

    /** Everything before {@code pos} has been written. */
    void written(long pos) {
      if (pos - requested < SYNC_EVERY || (running != null && !running.isDone())) {
        return;
      }
      requested = pos;
      running = thread.submit(() -> {
        ch.force(false);
        save(journal.withDone(0, pos, System.currentTimeMillis()));
        return null;
      });
    }

    /** Waits for a running flush; a failed one is reported, not thrown. */
    void await() {
      if (running == null) {
        return;
      }
      try {
        running.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      } catch (java.util.concurrent.ExecutionException e) {
        listener.warn("flushing " + journal.localPath() + ".part: " + e.getCause().getMessage());
      }
      running = null;
    }

    @Override
    public void close() {
      await();
      thread.shutdownNow();
    }
  }

  private static int fill(BufferedSource src, byte[] buf, int want) throws IOException {
    int n = 0;
    while (n < want) {
      int r = src.read(buf, n, want - n);
      if (r < 0) {
        break;
      }
      n += r;
    }
    return n;
  }

  private static void hashPrefix(FileChannel ch, long length, MessageDigest digest)
      throws IOException {
    ByteBuffer bb = ByteBuffer.allocate(4 << 20);
    long pos = 0;
    while (pos < length) {
      bb.clear();
      bb.limit((int) Math.min(bb.capacity(), length - pos));
      int n = ch.read(bb, pos);
      if (n < 0) {
        // A hole at the end that was never written reads as zeros.
        n = bb.remaining();
        Arrays.fill(bb.array(), bb.position(), bb.limit(), (byte) 0);
        bb.position(bb.limit());
      }
      bb.flip();
      digest.update(bb);
      pos += n;
    }
  }

  private void checkInterrupted(
      Journal journal, DigestPipeline hashing, BackgroundSync sync, Written written) {
    if (interrupted) {
      suspend(journal, hashing, sync, written);
      throw new TransferInterruptedException(
          (interruptReason == null ? "interrupted" : interruptReason) + "; the download of image "
              + journal.transferId() + " is suspended",
          journal.transferId(),
          true);
    }
  }

  /** Lets the writer finish, flushes what it wrote and records it, so resume continues there. */
  private void suspend(
      Journal journal, DigestPipeline hashing, BackgroundSync sync, Written written) {
    quiesce(hashing);
    long pos = written.upTo;
    try {
      sync.await();
      sync.ch.force(false);
      save(pos > 0 ? journal.withDone(0, pos, System.currentTimeMillis()) : journal);
    } catch (IOException | RuntimeException e) {
      listener.warn("could not save the journal of image " + journal.transferId() + ": "
          + e.getMessage());
    }
  }

  private void save(Journal j) {
    try {
      journals.save(j);
    } catch (IOException e) {
      throw DiskferryException.failed("cannot save journal in " + journals.dir() + ": "
          + e.getMessage());
    }
  }

  private void forget(Journal j, Path part) {
    journals.delete(j.transferId());
    try {
      Files.deleteIfExists(part);
    } catch (IOException e) {
      listener.warn("cannot remove " + part + ": " + e.getMessage());
    }
  }

}
