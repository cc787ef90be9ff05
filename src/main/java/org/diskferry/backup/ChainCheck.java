package org.diskferry.backup;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.diskferry.image.Qcow2Header;

/**
 * {@code backup verify}: checks that a backup and every backup it builds on are whole: each
 * manifest says succeeded, each disk's file is there with the size recorded, is a qcow2 image of
 * the disk's size that is neither marked corrupt nor dirty, and names the backing file the
 * manifest says (none for a full file).
 */
public final class ChainCheck {
  private ChainCheck() {}

  /** What was checked and what is wrong; no problems means the chain is whole. */
  public record Report(List<Path> files, List<String> problems) {
    public boolean ok() {
      return problems.isEmpty();
    }
  }

  public static Report check(Path backupDir) {
    List<Path> files = new ArrayList<>();
    List<String> problems = new ArrayList<>();
    Path dir = backupDir.toAbsolutePath().normalize();
    Optional<Manifest> first = Repository.read(dir);
    if (first.isEmpty()) {
      problems.add(dir.resolve(Repository.MANIFEST) + " is missing or not a backup manifest");
      return new Report(files, problems);
    }
    Manifest m = first.get();
    for (int depth = 0; m != null && depth < 10_000; depth++) {
      if (!m.succeeded()) {
        problems.add("backup " + dir.getFileName() + " did not succeed (state " + m.state() + ")");
      }
      for (Manifest.DiskEntry d : m.disks()) {
        Path f = dir.resolve(d.file());
        files.add(f);
        String why = checkFile(f, d);
        if (why != null) {
          problems.add(f + ": " + why);
        }
      }
      if (m.base() == null) {
        break;
      }
      Path baseDir = dir.resolveSibling(m.base());
      Optional<Manifest> base = Repository.read(baseDir);
      if (base.isEmpty()) {
        problems.add("backup " + dir.getFileName() + " builds on " + m.base()
            + ", whose manifest is missing");
        break;
      }
      dir = baseDir;
      m = base.get();
    }
    return new Report(files, problems);
  }

  private static String checkFile(Path f, Manifest.DiskEntry d) {
    if (!Files.isRegularFile(f)) {
      return "missing";
    }
    try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
      if (d.fileSize() > 0 && ch.size() != d.fileSize()) {
        return "size " + ch.size() + " bytes, the manifest says " + d.fileSize();
      }
      Qcow2Header h = Qcow2Header.read(ch);
      if (h.size() != d.virtualSize()) {
        return "virtual size " + h.size() + ", the disk's is " + d.virtualSize();
      }
      if (h.corrupt() || h.dirty()) {
        return "marked " + (h.corrupt() ? "corrupt" : "dirty") + " by qemu";
      }
      if (!Objects.equals(h.backingFile(), d.backingFile())) {
        return "backing file " + h.backingFile() + ", the manifest says " + d.backingFile();
      }
      return null;
    } catch (IOException e) {
      return e.getMessage();
    }
  }
}
