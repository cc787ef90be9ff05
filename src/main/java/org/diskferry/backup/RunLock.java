package org.diskferry.backup;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.OverlappingFileLockException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * The lock a run holds on the backup it is writing ({@code VM_DIR/.FOLDER.lock}, an OS file
 * lock): a partial folder whose lock nobody holds was left by a run that died. Closing releases
 * the lock and removes its file.
 */
final class RunLock implements AutoCloseable {
  private final Path file;
  private final FileChannel ch;
  private final FileLock lock;

  private RunLock(Path file, FileChannel ch, FileLock lock) {
    this.file = file;
    this.ch = ch;
    this.lock = lock;
  }

  static Path file(Path vmDir, String folder) {
    return vmDir.resolve("." + folder + ".lock");
  }

  /** Takes the lock of a backup this run writes; fails when another process holds it. */
  static RunLock take(Path vmDir, String folder) throws IOException {
    RunLock l = tryTake(vmDir, folder);
    if (l == null) {
      throw new IOException("another run holds " + file(vmDir, folder));
    }
    return l;
  }

  /** The lock, or null when another run (in this process or another) holds it. */
  static RunLock tryTake(Path vmDir, String folder) throws IOException {
    Path f = file(vmDir, folder);
    FileChannel ch =
        FileChannel.open(f, StandardOpenOption.CREATE, StandardOpenOption.WRITE);
    try {
      FileLock lock = ch.tryLock();
      if (lock == null) {
        ch.close();
        return null;
      }
      return new RunLock(f, ch, lock);
    } catch (OverlappingFileLockException e) {
      ch.close();
      return null;
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  @Override
  public void close() throws IOException {
    try {
      Files.deleteIfExists(file);
      lock.release();
    } finally {
      ch.close();
    }
  }
}
