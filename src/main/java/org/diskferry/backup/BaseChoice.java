package org.diskferry.backup;

import java.util.List;
import java.util.function.Function;
import org.diskferry.error.DiskferryException;

/**
 * Which backup a new one builds on, from {@code --mode} and what the repository holds: the VM's
 * newest backup, when it succeeded and its chain is whole; none (a full backup) otherwise.
 *
 * @param base the backup to build on, or null for a full backup
 * @param warning why a full backup is taken although an incremental one was possible, or null
 */
public record BaseChoice(Repository.Entry base, String warning) {

  /** The modes of {@code --mode}. */
  public static final List<String> MODES = List.of("auto", "full", "incremental");

  /**
   * @param backups the VM's finished backups, oldest first
   * @param whyNotBase why a backup cannot be a base, or null when it can
   * @throws DiskferryException FAILED for {@code incremental} when there is no usable base
   */
  public static BaseChoice choose(
      String mode,
      List<Repository.Entry> backups,
      Function<Repository.Entry, String> whyNotBase) {
    if (!MODES.contains(mode)) {
      throw DiskferryException.badInput(
          "--mode must be auto, full or incremental, not '" + mode + "'");
    }
    if (mode.equals("full")) {
      return new BaseChoice(null, null);
    }
    Repository.Entry newest = null;
    for (int i = backups.size() - 1; i >= 0 && newest == null; i--) {
      if (backups.get(i).manifest().succeeded()) {
        newest = backups.get(i);
      }
    }
    String problem =
        newest == null ? "there is no earlier backup of this VM" : whyNotBase.apply(newest);
    if (problem == null) {
      return new BaseChoice(newest, null);
    }
    String why =
        newest == null
            ? problem
            : "the last backup " + newest.folder() + " cannot be the base: " + problem;
    if (mode.equals("incremental")) {
      throw DiskferryException.failed(
          "cannot take an incremental backup: " + why + "; run with --mode full or auto");
    }
    return new BaseChoice(null, newest == null ? null : why + "; taking a full backup");
  }
}
