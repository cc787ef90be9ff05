package org.diskferry.backup;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import org.diskferry.error.DiskferryException;
import org.diskferry.http.Json;

/**
 * A backup repository: plain folders and files that standard tools read. {@code
 * DIR/VM_NAME-VM_ID/BACKUP_TIME-BACKUP_ID/} holds one qcow2 per disk, {@code backup.json} and the
 * VM's OVF. A backup is written in a hidden folder ({@code .BACKUP_TIME-BACKUP_ID.partial}) and
 * gets its name only once its files are complete and on stable storage, so a folder with a
 * proper name and a {@code succeeded} manifest is always a whole backup.
 */
public final class Repository {

  public static final String MANIFEST = "backup.json";
  static final String PARTIAL = ".partial";
  private static final DateTimeFormatter TIME =
      DateTimeFormatter.ofPattern("yyyyMMdd'T'HHmmss'Z'").withZone(ZoneOffset.UTC);

  private final Path root;

  public Repository(Path root) {
    this.root = root.toAbsolutePath().normalize();
  }

  public Path root() {
    return root;
  }

  /**
   * Creates the repository folder if needed and checks that files can be written there (before
   * anything starts on the engine).
   */
  public void checkWritable() {
    try {
      Files.createDirectories(root);
      Path probe = Files.createTempFile(root, ".diskferry-", ".probe");
      Files.delete(probe);
    } catch (IOException | SecurityException e) {
      throw DiskferryException.failed(
          "the backup repository " + root + " is not writable: " + describe(e));
    }
  }

  /** The folder of a VM's backups: its name (made safe for a file name) and its id. */
  public Path vmDir(String vmId, String vmName) {
    String name = vmName == null ? "vm" : vmName.replaceAll("[^A-Za-z0-9._+-]", "_");
    return root.resolve(name + "-" + vmId);
  }

  /** The folder name of a backup started at {@code time}. */
  public static String backupFolder(Instant time, String backupId) {
    return TIME.format(time) + "-" + backupId;
  }

  /** The hidden folder a backup is written in until it is complete. */
  public static Path partialDir(Path vmDir, String folder) {
    return vmDir.resolve("." + folder + PARTIAL);
  }

  /** The backup folder name a partial folder will get ({@code .NAME.partial} → NAME). */
  public static String folderOfPartial(Path partial) {
    String n = partial.getFileName().toString();
    return n.substring(1, n.length() - PARTIAL.length());
  }

  /** A backup on disk: its folder and manifest. */
  public record Entry(Path dir, Manifest manifest) {
    public String folder() {
      return dir.getFileName().toString();
    }

    /** When the backup started, from its manifest; the epoch when the manifest has no time. */
    public java.time.Instant startedAt() {
      try {
        return java.time.Instant.parse(manifest.started());
      } catch (RuntimeException e) {
        return java.time.Instant.EPOCH;
      }
    }
  }

  /** The VM's finished backups (named folders with a readable manifest), oldest first. */
  public List<Entry> backups(Path vmDir) {
    List<Entry> out = new ArrayList<>();
    if (!Files.isDirectory(vmDir)) {
      return out;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(vmDir)) {
      for (Path d : ds) {
        String n = d.getFileName().toString();
        if (n.startsWith(".") || !Files.isRegularFile(d.resolve(MANIFEST))) {
          continue;
        }
        read(d).ifPresent(m -> out.add(new Entry(d, m)));
      }
    } catch (IOException e) {
      throw DiskferryException.failed("cannot read " + vmDir + ": " + describe(e));
    }
    // By the time the backup started (folder names have whole seconds, and two backups in one
    // second would otherwise be ordered by their random ids), then by folder.
    out.sort(Comparator.comparing(Entry::startedAt).thenComparing(Entry::folder));
    return out;
  }

  /** The VM folders of the repository, by name. */
  public List<Path> vmDirs() {
    return folders(root, false);
  }

  /** The partial folders of a VM: backups being written now, or left by a killed run. */
  public List<Path> partials(Path vmDir) {
    return folders(vmDir, true).stream()
        .filter(p -> p.getFileName().toString().endsWith(PARTIAL))
        .toList();
  }

  private static List<Path> folders(Path dir, boolean hidden) {
    List<Path> out = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return out;
    }
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, Files::isDirectory)) {
      for (Path d : ds) {
        if (d.getFileName().toString().startsWith(".") == hidden) {
          out.add(d);
        }
      }
    } catch (IOException e) {
      throw DiskferryException.failed("cannot read " + dir + ": " + describe(e));
    }
    out.sort(Comparator.naturalOrder());
    return out;
  }

  /** Bytes of the files in a backup's folder. */
  public static long sizeOnDisk(Path dir) {
    long sum = 0;
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(dir, Files::isRegularFile)) {
      for (Path f : ds) {
        sum += Files.size(f);
      }
    } catch (IOException e) {
      // A folder that cannot be read counts what could be.
    }
    return sum;
  }

  /** The manifest in {@code dir}, or empty when it is missing or unreadable. */
  public static Optional<Manifest> read(Path dir) {
    try {
      return Optional.of(Json.mapper().readValue(dir.resolve(MANIFEST).toFile(), Manifest.class));
    } catch (IOException e) {
      return Optional.empty();
    }
  }

  /**
   * Why this backup cannot be the base of an incremental one, or null when it can: it succeeded,
   * created a checkpoint, and every file of its chain is there with the size recorded.
   */
  public String whyNotBase(Entry e) {
    Manifest m = e.manifest();
    if (!m.succeeded()) {
      return "it did not succeed";
    }
    if (m.toCheckpoint() == null) {
      return "it created no engine checkpoint";
    }
    return chainProblem(e.dir(), m, 0);
  }

  private String chainProblem(Path dir, Manifest m, int depth) {
    if (depth > 10_000) {
      return "its chain loops";
    }
    for (Manifest.DiskEntry d : m.disks()) {
      Path f = dir.resolve(d.file());
      try {
        if (!Files.isRegularFile(f)) {
          return "its file " + f + " is missing";
        }
        if (d.fileSize() > 0 && Files.size(f) != d.fileSize()) {
          return "its file " + f + " has changed size";
        }
      } catch (IOException ex) {
        return "its file " + f + " cannot be read";
      }
    }
    if (m.base() == null) {
      return null;
    }
    Path baseDir = dir.resolveSibling(m.base());
    Optional<Manifest> base = read(baseDir);
    if (base.isEmpty()) {
      return "the backup it builds on (" + m.base() + ") is missing";
    }
    return chainProblem(baseDir, base.get(), depth + 1);
  }

  /** Writes the manifest (fsynced) into {@code dir}. */
  public static void writeManifest(Path dir, Manifest m) throws IOException {
    Path tmp = dir.resolve(MANIFEST + ".tmp");
    Files.write(tmp, Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(m));
    fsync(tmp);
    Files.move(tmp, dir.resolve(MANIFEST), StandardCopyOption.REPLACE_EXISTING,
        StandardCopyOption.ATOMIC_MOVE);
  }

  /**
   * Makes a complete backup the VM's newest: fsyncs every file in the partial folder, then gives
   * the folder its name, then fsyncs the VM folder so the name is on stable storage too.
   */
  public static Path commit(Path partial, Path vmDir, String folder) throws IOException {
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(partial)) {
      for (Path f : ds) {
        if (Files.isRegularFile(f)) {
          fsync(f);
        }
      }
    }
    fsyncDir(partial);
    Path target = vmDir.resolve(folder);
    try {
      Files.move(partial, target, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(partial, target);
    }
    fsyncDir(vmDir);
    return target;
  }

  /** Removes a partial backup's folder; returns false when something could not be removed. */
  public static boolean discard(Path partial) {
    if (!Files.exists(partial)) {
      return true;
    }
    boolean ok = true;
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(partial)) {
      for (Path f : ds) {
        ok &= Files.deleteIfExists(f);
      }
      Files.deleteIfExists(partial);
    } catch (IOException e) {
      ok = false;
    }
    return ok;
  }

  static void fsync(Path f) throws IOException {
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.WRITE)) {
      ch.force(true);
    }
  }

  /** Directories cannot be opened for writing; reading is enough to fsync them on Linux. */
  static void fsyncDir(Path d) {
    try (FileChannel ch = FileChannel.open(d, StandardOpenOption.READ)) {
      ch.force(true);
    } catch (IOException e) {
      // Some platforms and file systems do not let a directory be synced.
    }
  }

  private static String describe(Exception e) {
    String m = e.getMessage();
    return e instanceof java.nio.file.AccessDeniedException
        ? "permission denied"
        : m == null ? e.getClass().getSimpleName() : m;
  }
}
