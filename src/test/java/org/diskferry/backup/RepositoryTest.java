package org.diskferry.backup;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.List;
import org.diskferry.error.DiskferryException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The repository's layout, its manifests, and which backup the next one builds on. */
class RepositoryTest {
  @TempDir Path dir;

  private static Manifest manifest(String id, String state, String base, String cp, String... files) {
    List<Manifest.DiskEntry> disks =
        java.util.Arrays.stream(files)
            .map(f -> new Manifest.DiskEntry("d-" + f, f, 1 << 20, "cow", "full", f + ".qcow2",
                null, 10, 3, null))
            .toList();
    return new Manifest(Manifest.VERSION, "https://engine", "vm-id", "vm one", id,
        base == null ? "full" : "incremental", base, null, cp, "2026-01-01T00:00:00Z",
        "2026-01-01T00:01:00Z", state, null, disks);
  }

  /** Writes a backup folder with its files (3 bytes each) and manifest. */
  private Repository.Entry backup(Path vmDir, String folder, Manifest m) throws Exception {
    Path d = vmDir.resolve(folder);
    Files.createDirectories(d);
    for (Manifest.DiskEntry e : m.disks()) {
      Files.writeString(d.resolve(e.file()), "abc");
    }
    Repository.writeManifest(d, m);
    return new Repository.Entry(d, m);
  }

  @Test
  void layoutNamesVmAndBackupFoldersAsTheSpecSays() {
    Repository repo = new Repository(dir);
    assertThat(repo.vmDir("1234", "web server/1").getFileName().toString())
        .isEqualTo("web_server_1-1234");
    assertThat(Repository.backupFolder(Instant.parse("2026-12-03T01:02:03.5Z"), "b1"))
        .isEqualTo("20261203T010203Z-b1");
    assertThat(Repository.partialDir(dir, "20261203T010203Z-b1").getFileName().toString())
        .isEqualTo(".20261203T010203Z-b1.partial");
  }

  @Test
  void autoBuildsOnTheNewestSucceededBackupWhoseChainIsWhole() throws Exception {
    Repository repo = new Repository(dir);
    Path vm = repo.vmDir("vm-id", "vm one");
    backup(vm, "20260101T000000Z-a", manifest("a", "succeeded", null, "cp-a", "x"));
    backup(vm, "20260102T000000Z-b", manifest("b", "succeeded", "20260101T000000Z-a", "cp-b", "x"));
    // A partial folder and a failed backup are never a base.
    Files.createDirectories(Repository.partialDir(vm, "20260104T000000Z-d"));
    backup(vm, "20260103T000000Z-c", manifest("c", "failed", null, "cp-c", "x"));

    List<Repository.Entry> all = repo.backups(vm);
    assertThat(all).extracting(Repository.Entry::folder)
        .containsExactly("20260101T000000Z-a", "20260102T000000Z-b", "20260103T000000Z-c");
    BaseChoice auto = BaseChoice.choose("auto", all, repo::whyNotBase);
    assertThat(auto.base().folder()).isEqualTo("20260102T000000Z-b");
    assertThat(auto.warning()).isNull();
    assertThat(BaseChoice.choose("incremental", all, repo::whyNotBase).base().folder())
        .isEqualTo("20260102T000000Z-b");
    assertThat(BaseChoice.choose("full", all, repo::whyNotBase).base()).isNull();
  }

  @Test
  void aMissingOrChangedFileAnywhereInTheChainMeansAFullBackupWithAWarning() throws Exception {
    Repository repo = new Repository(dir);
    Path vm = repo.vmDir("vm-id", "vm");
    Repository.Entry a = backup(vm, "20260101T000000Z-a", manifest("a", "succeeded", null, "cp-a", "x"));
    backup(vm, "20260102T000000Z-b", manifest("b", "succeeded", "20260101T000000Z-a", "cp-b", "x"));
    Files.writeString(a.dir().resolve("x.qcow2"), "abcd");

    BaseChoice c = BaseChoice.choose("auto", repo.backups(vm), repo::whyNotBase);
    assertThat(c.base()).isNull();
    assertThat(c.warning())
        .isEqualTo("the last backup 20260102T000000Z-b cannot be the base: its file "
            + a.dir().resolve("x.qcow2") + " has changed size; taking a full backup");

    Files.delete(a.dir().resolve("x.qcow2"));
    assertThatThrownBy(() -> BaseChoice.choose("incremental", repo.backups(vm), repo::whyNotBase))
        .isInstanceOf(DiskferryException.class)
        .hasMessageContaining("cannot take an incremental backup: the last backup"
            + " 20260102T000000Z-b cannot be the base: its file")
        .hasMessageContaining("is missing; run with --mode full or auto")
        .extracting(e -> ((DiskferryException) e).kind())
        .isEqualTo(DiskferryException.Kind.FAILED);
  }

  @Test
  void noBackupYetIsAFullOneWithoutWarningAndNoCheckpointIsNoBase() throws Exception {
    Repository repo = new Repository(dir);
    Path vm = repo.vmDir("vm-id", "vm");
    BaseChoice none = BaseChoice.choose("auto", repo.backups(vm), repo::whyNotBase);
    assertThat(none.base()).isNull();
    assertThat(none.warning()).isNull();
    assertThatThrownBy(() -> BaseChoice.choose("incremental", List.of(), repo::whyNotBase))
        .hasMessage("cannot take an incremental backup: there is no earlier backup of this VM;"
            + " run with --mode full or auto");
    backup(vm, "20260101T000000Z-a", manifest("a", "succeeded", null, null, "x"));
    assertThat(BaseChoice.choose("auto", repo.backups(vm), repo::whyNotBase).warning())
        .contains("it created no engine checkpoint");
    assertThatThrownBy(() -> BaseChoice.choose("sometimes", List.of(), repo::whyNotBase))
        .hasMessage("--mode must be auto, full or incremental, not 'sometimes'");
  }

  @Test
  void commitNamesTheFolderOnlyThenAndDiscardRemovesAPartialOne() throws Exception {
    Repository repo = new Repository(dir.resolve("new/repo"));
    repo.checkWritable();
    Path vm = repo.vmDir("id", "vm");
    Path partial = Repository.partialDir(vm, "20260101T000000Z-a");
    Files.createDirectories(partial);
    Files.writeString(partial.resolve("d.qcow2"), "abc");
    Repository.writeManifest(partial, manifest("a", "succeeded", null, "cp", "d"));
    assertThat(repo.backups(vm)).isEmpty();
    Path done = Repository.commit(partial, vm, "20260101T000000Z-a");
    assertThat(partial).doesNotExist();
    assertThat(repo.backups(vm)).extracting(Repository.Entry::dir).containsExactly(done);
    assertThat(Repository.read(done).orElseThrow().backupId()).isEqualTo("a");

    Path other = Repository.partialDir(vm, "20260102T000000Z-b");
    Files.createDirectories(other);
    Files.writeString(other.resolve("d.qcow2"), "abc");
    assertThat(Repository.discard(other)).isTrue();
    assertThat(other).doesNotExist();
  }

  @Test
  void aRepositoryThatCannotBeCreatedIsOneLineExit1() throws Exception {
    Path file = Files.writeString(dir.resolve("file"), "x");
    assertThatThrownBy(() -> new Repository(file.resolve("repo")).checkWritable())
        .isInstanceOf(DiskferryException.class)
        .hasMessageStartingWith("the backup repository " + file.resolve("repo")
            + " is not writable: ")
        .extracting(e -> ((DiskferryException) e).kind())
        .isEqualTo(DiskferryException.Kind.FAILED);
  }
}
