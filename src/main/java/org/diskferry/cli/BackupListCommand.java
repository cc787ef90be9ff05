package org.diskferry.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.diskferry.backup.Manifest;
import org.diskferry.backup.Repository;
import org.diskferry.cli.progress.ByteSizes;
import org.diskferry.error.DiskferryException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code diskferry backup list [VM]}: what a backup repository holds (no engine needed). */
@Command(
    name = "list",
    description = {
      "List the backups in the repository, per VM, oldest first: folder, mode, size of its"
          + " files, the checkpoint it created, and its state (succeeded, failed, or partial for"
          + " a backup being written or left by a run that was killed)."
    })
final class BackupListCommand implements Callable<Integer> {

  @ParentCommand BackupCommand backup;

  @picocli.CommandLine.Mixin HelpOption help;

  @picocli.CommandLine.Mixin OutputOptions output;

  @Parameters(arity = "0..1", paramLabel = "VM", description = "Only this VM (name or id).")
  String vm;

  @Option(
      names = "--repo",
      paramLabel = "DIR",
      description = "The backup repository (also the profile key repo).")
  Path repo;

  @Override
  public Integer call() {
    if (repo == null) {
      throw DiskferryException.badInput("no repository: use --repo DIR or the profile key repo");
    }
    Repository repository = new Repository(repo);
    List<Map<String, Object>> rows = new ArrayList<>();
    for (Path vmDir : repository.vmDirs()) {
      String name = vmDir.getFileName().toString();
      boolean named = name.equals(vm) || name.endsWith("-" + vm) || name.startsWith(vm + "-");
      if (vm != null && !named) {
        continue;
      }
      for (Repository.Entry e : repository.backups(vmDir)) {
        rows.add(row(e.dir(), e.manifest(), e.manifest().state()));
      }
      for (Path p : repository.partials(vmDir)) {
        rows.add(row(p, Repository.read(p).orElse(null), "partial"));
      }
    }
    if (output.json()) {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("command", "backup list");
      out.put("repo", repository.root().toString());
      out.put("backups", rows);
      backup.printJson(out);
      return 0;
    }
    String fmt = "%-24s %-56s %-12s %10s  %-36s  %s%n";
    backup.cli().stdout().printf(fmt, "VM", "BACKUP", "MODE", "SIZE", "CHECKPOINT", "STATE");
    for (Map<String, Object> r : rows) {
      backup.cli().stdout().printf(
          fmt, r.get("vm_name"), r.get("folder"), orDash(r.get("mode")),
          ByteSizes.format((Long) r.get("size")), orDash(r.get("to_checkpoint")), r.get("state"));
    }
    return 0;
  }

  private static Object orDash(Object o) {
    return o == null ? "-" : o;
  }

  private static Map<String, Object> row(Path dir, Manifest m, String state) {
    Map<String, Object> r = new LinkedHashMap<>();
    String vmFolder = dir.getParent().getFileName().toString();
    r.put("vm_id", m != null ? m.vmId() : null);
    r.put("vm_name", m != null ? m.vmName() : vmFolder);
    r.put("folder", dir.getFileName().toString());
    r.put("dir", dir.toString());
    r.put("backup_id", m != null ? m.backupId() : null);
    r.put("mode", m != null ? m.mode() : null);
    r.put("base", m != null ? m.base() : null);
    r.put("started", m != null ? m.started() : null);
    r.put("ended", m != null ? m.ended() : null);
    r.put("size", Repository.sizeOnDisk(dir));
    r.put("to_checkpoint", m != null ? m.toCheckpoint() : null);
    r.put("state", state == null ? "unknown" : state);
    return r;
  }
}
