package org.diskferry.transfer;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import org.diskferry.error.DiskferryException;

/**
 * Holds a download's target for one run, so that a second diskferry writing the same file (a cron
 * job that overlaps a slow night) refuses instead of truncating the first one's partial file and
 * journal.
 *
 * <p>The lock is an exclusive {@link FileChannel#tryLock} on a file of its own in the state
 * directory ({@code locks/}, named by a hash of the target's path), never on the partial file:
 * POSIX releases every lock a process holds on a file when it closes any descriptor of it, and a
 * download opens and closes its partial file several times. The lock files are empty and stay
 * (removing one would let a third run lock a fresh file while the second still holds the old
 * one); the operating system releases the lock when the process ends, however it ends.
 */
public final class TargetLock implements AutoCloseable {
  private final FileChannel channel;
  private final FileLock lock;

  private TargetLock(FileChannel channel, FileLock lock) {
    this.channel = channel;
    this.lock = lock;
  }

  /** Locks {@code target} with a lock file in the journals' directory (see below). */
  public static TargetLock acquire(JournalStore journals, Path target) {
    return acquire(journals.dir().resolve("locks"), target);
  }

  /**
   * Locks {@code target} for this process, or throws a conflict (exit 5) naming it when another
   * diskferry holds it.
   *
   * @param dir where the lock files live (created if needed)
   */
  public static TargetLock acquire(Path dir, Path target) {
    Path key = canonical(target);
    Path file = dir.resolve(hash(key.toString()) + ".lock");
    FileChannel ch;
    try {
      Files.createDirectories(dir);
      ch = FileChannel.open(file, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    } catch (IOException e) {
      throw DiskferryException.failed(
          "cannot lock " + key + " for this download: cannot open " + file + ": "
              + LocalWriteException.reason(e));
    }
    FileLock lock;
    try {
      lock = ch.tryLock();
    } catch (OverlappingFileLockException e) {
      lock = null; // held by this very process (two runs in one JVM)
    } catch (IOException e) {
      close(ch);
      throw DiskferryException.failed(
          "cannot lock " + key + " for this download: " + LocalWriteException.reason(e));
    }
    if (lock == null) {
      close(ch);
      throw DiskferryException.conflict(
          key + " is being written by another diskferry (its " + key.getFileName()
              + ".part is locked); wait until that one ends, or stop it");
    }
    return new TargetLock(ch, lock);
  }

  /** The target's absolute path, with its directory's symbolic links resolved when it exists. */
  private static Path canonical(Path target) {
    Path abs = target.toAbsolutePath().normalize();
    Path parent = abs.getParent();
    if (parent == null) {
      return abs;
    }
    try {
      return parent.toRealPath().resolve(abs.getFileName());
    } catch (IOException e) {
      return abs;
    }
  }

  private static String hash(String s) {
    try {
      byte[] d = MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8));
      return HexFormat.of().formatHex(d, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void close(FileChannel ch) {
    try {
      ch.close();
    } catch (IOException e) {
      // nothing was written to it
    }
  }

  @Override
  public void close() {
    try {
      lock.release();
    } catch (IOException e) {
      // closing the channel releases it too
    }
    close(channel);
  }
}
