package org.diskferry.transfer;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
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
final class LocalFiles {

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
  static boolean deletePart(Path part, TransferListener listener) {
    try {
      return Files.deleteIfExists(part);
    } catch (IOException e) {
      listener.warn("cannot remove " + part + ": " + e.getMessage());
      return false;
    }
  }

  static void moveIntoPlace(Path part, Path target, boolean force) throws IOException {
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
}
