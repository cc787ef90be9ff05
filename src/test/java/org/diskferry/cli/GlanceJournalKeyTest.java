package org.diskferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import org.diskferry.error.DiskferryException;
import org.diskferry.glance.GlanceDownload;
import org.diskferry.transfer.Direction;
import org.diskferry.transfer.Journal;
import org.diskferry.transfer.JournalStore;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Glance download journals are keyed by image and target, and found by either key or image. */
class GlanceJournalKeyTest {

  static final String IMAGE = "0a0a0a0a-1111-4222-8333-944455556666";

  @TempDir Path dir;

  private Journal save(JournalStore store, String id, Path target) throws IOException {
    Journal j =
        new Journal(
            Journal.VERSION, id, IMAGE, Direction.DOWNLOAD, "glance:c1", target.toString(), 0, 0,
            1 << 20, false, false, List.of(new long[] {0, 4096}), System.currentTimeMillis());
    store.save(j);
    return j;
  }

  @Test
  void twoTargetsOfOneImageKeepTwoJournals() throws IOException {
    JournalStore store = new JournalStore(dir.resolve("state"));
    Path a = dir.resolve("a.img");
    Path b = dir.resolve("b.img");
    assertThat(GlanceDownload.journalId(IMAGE, a))
        .startsWith(IMAGE + ".")
        .isEqualTo(GlanceDownload.journalId(IMAGE, a))
        .isNotEqualTo(GlanceDownload.journalId(IMAGE, b));
    Journal ja = save(store, GlanceDownload.journalId(IMAGE, a), a);
    assertThat(GlanceCommands.journal(store, IMAGE).transferId()).isEqualTo(ja.transferId());
    Journal jb = save(store, GlanceDownload.journalId(IMAGE, b), b);
    assertThat(store.list()).hasSize(2);
    assertThat(GlanceCommands.journal(store, jb.transferId()).localPath()).isEqualTo(b.toString());
    assertThatThrownBy(() -> GlanceCommands.journal(store, IMAGE))
        .isInstanceOfSatisfying(
            DiskferryException.class,
            e -> {
              assertThat(e.kind()).isEqualTo(DiskferryException.Kind.BAD_INPUT);
              assertThat(e.getMessage())
                  .startsWith("2 interrupted downloads of image " + IMAGE + ": give one of ")
                  .contains(ja.transferId() + " (" + a + ")")
                  .contains(jb.transferId() + " (" + b + ")");
            });
  }

  @Test
  void aJournalKeyedByTheImageAloneStillLoads() throws IOException {
    JournalStore store = new JournalStore(dir.resolve("state"));
    save(store, IMAGE, dir.resolve("old.img"));
    assertThat(GlanceCommands.journal(store, IMAGE).localPath())
        .isEqualTo(dir.resolve("old.img").toString());
    assertThatThrownBy(() -> GlanceCommands.journal(store, "nope"))
        .isInstanceOfSatisfying(
            DiskferryException.class,
            e -> assertThat(e.kind()).isEqualTo(DiskferryException.Kind.NOT_FOUND));
  }
}
