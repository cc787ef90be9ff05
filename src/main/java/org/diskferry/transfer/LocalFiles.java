package org.diskferry.transfer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import org.diskferry.error.DiskferryException;

/**
 * The local files of a transfer as resume sees them: an upload's source must not change while its
 * journal exists, and a download is written to a partial file beside its target that takes the
 * final name only once the transfer is finished, so a file under that name is always complete.
 */
public final class LocalFiles {

  private LocalFiles() {}

  static Path partFile(Path target) {
    return target.resolveSibling(target.getFileName() + ".part");
  }

  static long modified(Path p) {
    try {
      return Files.getLastModifiedTime(p).toMillis();
    } catch (IOException e) {
      throw DiskferryException.badInput("cannot read " + p + ": " + e.getMessage());
    }
  }

  static void checkUnchanged(Journal j, Path src) {
    if (!Files.isRegularFile(src)) {
      throw DiskferryException.badInput(
              src + " is gone; transfer " + j.transferId() + " cannot be resumed")
          .transfer(j.transferId(), DiskferryException.Hint.CANCEL);
    }
    try {
      if (Files.size(src) != j.localSize()
          || Files.getLastModifiedTime(src).toMillis() != j.localModified()) {
        throw DiskferryException.badInput(
                src + " changed since transfer " + j.transferId() + " began (size or"
                    + " modification time differ); it cannot be resumed: cancel it and upload"
                    + " again")
            .transfer(j.transferId(), DiskferryException.Hint.CANCEL);
      }
    } catch (IOException e) {
      throw DiskferryException.badInput("cannot read " + src + ": " + e.getMessage());
    }
  }

  /**
   * True when the partial file of a download is there with the disk's size (raw), or at all
   * (qcow2: its layout is checked once the disk's extents are known).
   */
  static boolean partUsable(Journal j, Path target) {
    Path part = partFile(target);
    try {
      return Files.isRegularFile(part) && (j.qcow2() || Files.size(part) == j.size());
    } catch (IOException e) {
      return false;
    }
  }

  /** Removes a partial file; true when there was one. A failure is only a warning. */
  public static boolean deletePart(Path part, TransferListener listener) {
    try {
      return Files.deleteIfExists(part);
    } catch (IOException e) {
      listener.warn("cannot remove " + part + ": " + e.getMessage());
      return false;
    }
  }

  /**
   * The error for a download that could not write its partial file (already removed, with its
   * journal): what the system said and, when the disk is full, how much room the download needs.
   *
   * @param needed the bytes of data the download writes
   * @param transferId the transfer that was finalized, or null
   */
  public static LocalWriteException writeFailed(
      LocalWriteException e, Path part, long needed, String transferId) {
    String hint = "";
    if (e.diskFull()) {
      long free = -1;
      try {
        free = Files.getFileStore(part.toAbsolutePath().getParent()).getUsableSpace();
      } catch (IOException | RuntimeException ignored) {
        // the hint then leaves out what is free
      }
      hint = "; the download needs " + mib(needed) + " there"
          + (free >= 0 ? " and " + mib(free) + " is free" : "")
          + ": free some space and download again";
    }
    return new LocalWriteException(
        part,
        e.getCause() instanceof IOException io ? io : new IOException(e.getMessage()),
        hint + " (" + (Files.exists(part) ? "could not remove " : "removed ") + "the partial file"
            + (transferId == null ? "" : "; transfer " + transferId + " was finalized") + ")");
  }

  private static String mib(long bytes) {
    return String.format(java.util.Locale.ROOT, "%.1f MiB", bytes / (1024.0 * 1024.0));
  }

  /**
   * Gives a finished download's partial file its final name. Without {@code force} a file that
   * appeared under that name meanwhile is never replaced: the data stays in the partial file and
   * the error (exit 5) says so.
   */
  public static void finishDownload(Path part, Path target, boolean force) {
    try {
      moveIntoPlace(part, target, force);
    } catch (FileAlreadyExistsException e) {
      throw DiskferryException.conflict(
          target + " appeared while the download ran and was left alone; the complete download"
              + " is in " + part + " (rename it yourself, or download again with --force)");
    } catch (IOException e) {
      throw DiskferryException.failed(
          "cannot rename " + part + " to " + target + ": " + LocalWriteException.reason(e));
    }
  }

  /**
   * Renames {@code part} to {@code target}, then makes the rename durable. Without {@code force}
   * an existing target is never replaced ({@link FileAlreadyExistsException}): a hard link is the
   * atomic "rename unless it exists" (a plain rename replaces silently); file systems without
   * hard links get a check and a move that refuses an existing target.
   */
  static void moveIntoPlace(Path part, Path target, boolean force) throws IOException {
    if (force) {
      try {
        Files.move(
            part, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
      } catch (AtomicMoveNotSupportedException e) {
        Files.move(part, target, StandardCopyOption.REPLACE_EXISTING);
      }
    } else {
      boolean linked;
      try {
        Files.createLink(target, part);
        linked = true;
      } catch (FileAlreadyExistsException e) {
        throw e;
      } catch (IOException | UnsupportedOperationException e) {
        linked = false; // no hard links on this file system
      }
      if (linked) {
        Files.delete(part);
      } else {
        Files.move(part, target); // fails with FileAlreadyExistsException if it exists
      }
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
}
