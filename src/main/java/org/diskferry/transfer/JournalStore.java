package org.diskferry.transfer;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.regex.Pattern;
import org.diskferry.error.DiskferryException;
import org.diskferry.http.Json;

/**
 * Journals of unfinished transfers, one JSON file per transfer in
 * {@code $XDG_STATE_HOME/diskferry/} (default {@code ~/.local/state/diskferry/}). Every save is
 * atomic (write, fsync, rename), so a crash leaves the old or the new journal, never half of one.
 */
public final class JournalStore {

  private static final Pattern SAFE_ID = Pattern.compile("[A-Za-z0-9._-]{1,128}");

  private final Path dir;

  public JournalStore(Path dir) {
    this.dir = dir;
  }

  /** The store at the XDG location for this environment. */
  public static JournalStore fromEnvironment(Map<String, String> env) {
    String state = env.get("XDG_STATE_HOME");
    Path base;
    if (state != null && !state.isBlank() && Path.of(state).isAbsolute()) {
      base = Path.of(state);
    } else {
      String home = env.getOrDefault("HOME", System.getProperty("user.home"));
      base = Path.of(home, ".local", "state");
    }
    return new JournalStore(base.resolve("diskferry"));
  }

  public Path dir() {
    return dir;
  }

  /** The file of a transfer's journal. */
  public Path file(String transferId) {
    if (transferId == null || !SAFE_ID.matcher(transferId).matches()) {
      throw DiskferryException.badInput("not a transfer id: '" + transferId + "'");
    }
    return dir.resolve(transferId + ".json");
  }

  /**
   * Makes sure journals can be saved here: creates the directory and writes and removes a probe
   * file. Called before anything is started on the platform.
   *
   * @throws DiskferryException FAILED naming the directory and why
   */
  public void checkWritable() {
    try {
      Files.createDirectories(dir);
      Path probe = Files.createTempFile(dir, ".probe-", ".tmp");
      Files.delete(probe);
    } catch (IOException e) {
      throw DiskferryException.failed(
          "cannot save journals in " + dir + " (set by $XDG_STATE_HOME, default"
              + " ~/.local/state): " + reason(e) + "; nothing was started");
    }
  }

  /** What went wrong with a file, without repeating its path. */
  static String reason(IOException e) {
    if (e instanceof java.nio.file.AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof java.nio.file.FileAlreadyExistsException
        || e instanceof java.nio.file.NotDirectoryException) {
      return "a file is in the way (not a directory)";
    }
    if (e instanceof java.nio.file.FileSystemException f && f.getReason() != null) {
      return f.getReason();
    }
    return e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
  }

  /** Saves atomically. */
  public void save(Journal j) throws IOException {
    Files.createDirectories(dir);
    Path target = file(j.transferId());
    Path tmp = dir.resolve(j.transferId() + ".json.tmp");
    byte[] bytes = Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(j);
    try (FileChannel ch =
        FileChannel.open(
            tmp,
            StandardOpenOption.CREATE,
            StandardOpenOption.WRITE,
            StandardOpenOption.TRUNCATE_EXISTING)) {
      ch.write(java.nio.ByteBuffer.wrap(bytes));
      ch.force(true);
    }
    try {
      Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  public Optional<Journal> load(String transferId) {
    Path f = file(transferId);
    try {
      return Optional.of(Json.mapper().readValue(f.toFile(), Journal.class));
    } catch (IOException e) {
      if (e instanceof FileNotFoundException || e instanceof NoSuchFileException) {
        // None (or removed meanwhile by its own process); a first save cut short leaves only its
        // temporary file.
        return recover(dir.resolve(transferId + ".json.tmp"));
      }
      throw DiskferryException.failed("cannot read journal " + f + ": " + e.getMessage());
    }
  }

  /**
   * A journal whose first save was cut short between its write and its rename (a kill in that
   * moment): complete if it parses. It is only read, never moved: the same file may be the save
   * of a live process (a reader such as {@code status} cannot tell), whose rename must still
   * find it. The next save of that journal, or its deletion, replaces it.
   */
  private Optional<Journal> recover(Path tmp) {
    if (!Files.exists(tmp)) {
      return Optional.empty();
    }
    try {
      return Optional.of(Json.mapper().readValue(tmp.toFile(), Journal.class));
    } catch (IOException e) {
      return Optional.empty(); // cut off, or still being written
    }
  }

  /** Every readable journal, oldest first; unreadable files are skipped. */
  public List<Journal> list() {
    return listing().journals();
  }

  /**
   * What the directory holds: the journals, oldest first, and the files that look like journals
   * but cannot be read as one (damaged, foreign, or of a newer version), which are kept.
   *
   * @param journals the readable journals
   * @param unreadable one line per unreadable file: its path and why
   */
  public record Listing(List<Journal> journals, List<String> unreadable) {}

  /** The journals and the unreadable files of this store (see {@link Listing}). */
  public Listing listing() {
    List<Journal> out = new ArrayList<>();
    List<String> unreadable = new ArrayList<>();
    if (!Files.isDirectory(dir)) {
      return new Listing(out, unreadable);
    }
    try (DirectoryStream<Path> files = Files.newDirectoryStream(dir, "*.json*")) {
      for (Path f : files) {
        String name = f.getFileName().toString();
        if (name.endsWith(".json.tmp")) {
          Path done = dir.resolve(name.substring(0, name.length() - ".tmp".length()));
          if (!Files.exists(done)) {
            recover(f).ifPresent(out::add);
          }
          continue;
        }
        if (!name.endsWith(".json")) {
          continue;
        }
        try {
          out.add(Json.mapper().readValue(f.toFile(), Journal.class));
        } catch (IOException e) {
          // Kept as it is: it may be a journal a newer diskferry wrote, or one to repair by hand.
          unreadable.add(f + ": " + unreadableReason(e));
        }
      }
    } catch (IOException e) {
      throw DiskferryException.failed("cannot list journals in " + dir + ": " + e.getMessage());
    }
    out.sort((a, b) -> Long.compare(a.updated(), b.updated()));
    unreadable.sort(null);
    return new Listing(out, unreadable);
  }

  /** Why a journal file could not be read, on one line, without quoting its content. */
  private static String unreadableReason(IOException e) {
    if (e instanceof com.fasterxml.jackson.core.JsonProcessingException j) {
      com.fasterxml.jackson.core.JsonLocation at = j.getLocation();
      String m = j.getOriginalMessage() == null ? "" : j.getOriginalMessage();
      String what =
          j instanceof com.fasterxml.jackson.core.JsonParseException
                  || m.contains("end-of-input")
                  || m.startsWith("No content")
              ? "not valid JSON"
              : "not a diskferry journal";
      return what + (at == null || at.getLineNr() < 1 ? "" : " (line " + at.getLineNr() + ")");
    }
    return reason(e);
  }

  public void delete(String transferId) {
    try {
      Files.deleteIfExists(dir.resolve(transferId + ".json.tmp"));
      Files.deleteIfExists(file(transferId));
    } catch (IOException e) {
      throw DiskferryException.failed("cannot remove journal of " + transferId + ": " + e.getMessage());
    }
  }
}
