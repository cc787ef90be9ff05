package org.diskferry.backup;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** --keep: the newest N backups and their chains stay, with the checkpoints they created. */
class RetentionTest {

  private static Repository.Entry b(String folder, String base, String cp, String state) {
    return new Repository.Entry(
        Path.of("/repo/vm", folder),
        new Manifest(Manifest.VERSION, "e", "vm", "vm", folder, base == null ? "full" : "incremental",
            base, null, cp, "s", "e", state, null, List.of()));
  }

  private static final List<Repository.Entry> TWO_CHAINS =
      List.of(
          b("1-full", null, "cp1", "succeeded"),
          b("2-inc", "1-full", "cp2", "succeeded"),
          b("3-full", null, "cp3", "succeeded"),
          b("4-inc", "3-full", "cp4", "succeeded"),
          b("5-inc", "4-inc", "cp5", "succeeded"));

  private static List<String> folders(Retention.Plan p) {
    return p.remove().stream().map(Repository.Entry::folder).toList();
  }

  @Test
  void keepsTheNewestAndEverythingTheyBuildOn() {
    List<String> engine = List.of("cp1", "cp2", "cp3", "cp4", "cp5");
    Retention.Plan keep1 = Retention.plan(1, TWO_CHAINS, engine);
    assertThat(folders(keep1)).containsExactly("1-full", "2-inc");
    assertThat(keep1.checkpoints()).containsExactly("cp1", "cp2");
    Retention.Plan keep3 = Retention.plan(3, TWO_CHAINS, engine);
    assertThat(folders(keep3)).containsExactly("1-full", "2-inc");
    Retention.Plan keep4 = Retention.plan(4, TWO_CHAINS, engine);
    assertThat(folders(keep4)).isEmpty();
    assertThat(keep4.checkpoints()).isEmpty();
  }

  @Test
  void neverDeletesTheEnginesNewestCheckpointNorOneItDoesNotHave() {
    // The engine's newest checkpoint belongs to another tool's backup; cp1 is already gone.
    List<String> engine = List.of("cp2", "cp3", "cp4", "cp5", "other");
    Retention.Plan p = Retention.plan(1, TWO_CHAINS, engine);
    assertThat(p.checkpoints()).containsExactly("cp2");
    List<Repository.Entry> newestRemoved =
        List.of(b("1-full", null, "cp1", "succeeded"), b("2-full", null, "cp2", "succeeded"),
            b("3-full", null, "cp3", "failed"));
    Retention.Plan q = Retention.plan(1, newestRemoved, List.of("cp1", "cp2", "cp3"));
    assertThat(folders(q)).containsExactly("1-full", "3-full");
    assertThat(q.checkpoints()).containsExactly("cp1");
  }
}
