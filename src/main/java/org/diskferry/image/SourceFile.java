package org.diskferry.image;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import org.diskferry.error.DiskferryException;

/**
 * The size and modification time of an upload's source when the upload began, to notice a file
 * that something else changes while it is read: what was sent would then be no consistent image.
 *
 * @param path the file
 * @param size its size in bytes then
 * @param modified its modification time then, in nanoseconds since the epoch
 */
public record SourceFile(Path path, long size, long modified) {

  /** The file as it is now; BAD_INPUT if it cannot be read. */
  public static SourceFile of(Path path) {
    try {
      BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
      return new SourceFile(path, a.size(), nanos(a));
    } catch (IOException e) {
      throw DiskferryException.badInput("cannot read " + path + ": " + e.getMessage());
    }
  }

  /** True when the file's size or modification time differ from this one's, or it is gone. */
  public boolean changed() {
    try {
      BasicFileAttributes a = Files.readAttributes(path, BasicFileAttributes.class);
      return a.size() != size || nanos(a) != modified;
    } catch (IOException e) {
      return true;
    }
  }

  /** Throws {@link #changedError} when the file {@link #changed}. */
  public void checkUnchanged() {
    if (changed()) {
      throw changedError();
    }
  }

  /** BAD_INPUT (exit 2): the source changed during the upload. */
  public DiskferryException changedError() {
    return DiskferryException.badInput(
        path + " changed while it was being uploaded (its size or modification time is not what"
            + " it was when the upload began), so the data sent is no consistent image; upload it"
            + " again when nothing writes to it (or upload a copy or a snapshot)");
  }

  private static long nanos(BasicFileAttributes a) {
    java.time.Instant t = a.lastModifiedTime().toInstant();
    return t.getEpochSecond() * 1_000_000_000L + t.getNano();
  }
}
