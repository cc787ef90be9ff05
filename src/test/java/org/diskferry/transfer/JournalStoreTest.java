package org.diskferry.transfer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.diskferry.http.Json;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JournalStoreTest {

  @TempDir Path dir;

  static Journal journal(String id) {
    return new Journal(
        Journal.VERSION, id, "d", Direction.UPLOAD, "https://e", "/x.img", 10, 20, 1000, true,
        true, List.of(), 1);
  }

  @Test
  void savesLoadsListsAndDeletes() throws IOException {
    JournalStore store = new JournalStore(dir);
    Journal j = journal("t1").withDone(0, 100, 2).withDone(200, 300, 3).withDone(100, 200, 4);
    store.save(j);
    Journal back = store.load("t1").orElseThrow();
    assertThat(back.bytesDone()).isEqualTo(300);
    assertThat(back.done()).hasSize(1);
    assertThat(back.remaining(new Range(0, 1000, false)))
        .containsExactly(new Range(300, 700, false));
    assertThat(store.list()).extracting(Journal::transferId).containsExactly("t1");
    assertThat(Files.readString(dir.resolve("t1.json"))).doesNotContain("password");
    store.delete("t1");
    assertThat(store.load("t1")).isEmpty();
    assertThat(store.list()).isEmpty();
  }

  @Test
  void aSaveCutBetweenWriteAndRenameIsRecovered() throws IOException {
    JournalStore store = new JournalStore(dir);
    Files.createDirectories(dir);
    Files.write(dir.resolve("t2.json.tmp"), Json.mapper().writeValueAsBytes(journal("t2")));
    assertThat(store.list()).extracting(Journal::transferId).containsExactly("t2");
    assertThat(store.load("t2")).map(Journal::transferId).contains("t2");
    // Only read: the file may be a live process's save, whose rename must still find it.
    assertThat(dir.resolve("t2.json.tmp")).exists();
    assertThat(dir.resolve("t2.json")).doesNotExist();
    // The next save puts it in place; a deletion removes it.
    store.save(journal("t2"));
    assertThat(dir.resolve("t2.json")).exists();
    assertThat(dir.resolve("t2.json.tmp")).doesNotExist();
    store.delete("t2");
    assertThat(store.list()).isEmpty();
    Files.writeString(dir.resolve("t3.json.tmp"), "{\"version\": 1, \"transf");
    assertThat(store.load("t3")).isEmpty();
  }

  /** A reader must never take the temporary file a writer is about to rename. */
  @Test
  void readingDuringASaveLeavesTheSaveAlone() throws Exception {
    JournalStore store = new JournalStore(dir);
    Files.createDirectories(dir);
    java.util.concurrent.atomic.AtomicReference<Throwable> failed =
        new java.util.concurrent.atomic.AtomicReference<>();
    Thread writer = new Thread(() -> {
      try {
        for (int i = 0; i < 300; i++) {
          store.save(journal("t4"));
          store.delete("t4");
        }
      } catch (Throwable t) {
        failed.set(t);
      }
    });
    writer.start();
    while (writer.isAlive()) {
      store.list();
      store.load("t4");
    }
    writer.join();
    assertThat(failed.get()).isNull();
  }
}
