package org.diskferry.backup;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;

/**
 * {@code --keep N}: which backups of a VM stay (the newest N that succeeded, and every backup
 * they build on) and which engine checkpoints can go (those of removed backups, unless a kept
 * backup created it or it is the VM's newest).
 */
public final class Retention {
  private Retention() {}

  /** What to remove. */
  public record Plan(List<Repository.Entry> remove, List<String> checkpoints) {}

  /**
   * @param backups the VM's finished backups, oldest first
   * @param engineCheckpoints the VM's checkpoints on the engine, oldest first
   */
  public static Plan plan(
      int keep, List<Repository.Entry> backups, List<String> engineCheckpoints) {
    if (keep < 1) {
      throw new IllegalArgumentException("keep must be at least 1");
    }
    Map<String, Repository.Entry> byFolder =
        backups.stream().collect(Collectors.toMap(Repository.Entry::folder, Function.identity()));
    Set<String> kept = new HashSet<>();
    int newest = 0;
    for (int i = backups.size() - 1; i >= 0 && newest < keep; i--) {
      Repository.Entry e = backups.get(i);
      if (!e.manifest().succeeded()) {
        continue;
      }
      newest++;
      // The backup and the chain it builds on.
      for (Repository.Entry c = e; c != null && kept.add(c.folder());
          c = c.manifest().base() == null ? null : byFolder.get(c.manifest().base())) {}
    }
    List<Repository.Entry> remove = new ArrayList<>();
    Set<String> keptCheckpoints = new HashSet<>();
    for (Repository.Entry e : backups) {
      if (kept.contains(e.folder())) {
        keptCheckpoints.add(e.manifest().toCheckpoint());
      } else {
        remove.add(e);
      }
    }
    if (!engineCheckpoints.isEmpty()) {
      keptCheckpoints.add(engineCheckpoints.get(engineCheckpoints.size() - 1));
    }
    List<String> checkpoints = new ArrayList<>();
    for (Repository.Entry e : remove) {
      String cp = e.manifest().toCheckpoint();
      if (cp != null && !keptCheckpoints.contains(cp) && engineCheckpoints.contains(cp)) {
        checkpoints.add(cp);
      }
    }
    return new Plan(remove, checkpoints);
  }
}
