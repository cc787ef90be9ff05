package org.diskferry.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.diskferry.backup.BackupRun;
import org.diskferry.backup.BaseChoice;
import org.diskferry.backup.Manifest;
import org.diskferry.backup.Repository;
import org.diskferry.cli.progress.ByteSizes;
import org.diskferry.error.DiskferryException;
import org.diskferry.ovirt.OvirtBackend;
import org.diskferry.transfer.Direction;
import org.diskferry.transfer.TransferListener;
import org.diskferry.transfer.TransferRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code diskferry backup VM… --repo DIR}: full or incremental backups of VMs (oVirt). */
@Command(
    name = "backup",
    description = {
      "Back up VMs, running or not, with the engine's backup API: one qcow2 per disk in"
          + " DIR/VM_NAME-VM_ID/BACKUP_TIME-BACKUP_ID/, with backup.json and the VM's OVF."
          + " An incremental backup holds only the clusters changed since the previous one,"
          + " which is its backing file.",
      "One result per VM; a VM being backed up elsewhere is skipped (exit 5 at the end)."
    },
    subcommands = {BackupListCommand.class, BackupVerifyCommand.class})
final class BackupCommand extends TransferCommand {

  @Parameters(arity = "0..*", paramLabel = "VM", description = "VM id or name.")
  List<String> vms;

  @picocli.CommandLine.ArgGroup(validate = false, order = 3, heading = "%nTransfer options:%n")
  OvirtOptions ovirt = new OvirtOptions();

  @Option(
      names = "--repo",
      paramLabel = "DIR",
      description = "The backup repository (also the profile key repo).")
  Path repo;

  @Option(
      names = "--mode",
      paramLabel = "MODE",
      defaultValue = "auto",
      completionCandidates = BackupCommand.Modes.class,
      description =
          "auto (default): incremental from the VM's last backup that succeeded, full when there"
              + " is none or the engine refuses its checkpoint; full; incremental.")
  String mode;

  @Option(
      names = "--disk",
      paramLabel = "ID",
      description = "Back up only this disk (repeatable; default: every disk that can be).")
  List<String> disks = new ArrayList<>();

  @Option(
      names = "--inactivity-timeout",
      paramLabel = "SECONDS",
      defaultValue = "3600",
      description =
          "Seconds the engine keeps an idle transfer (default ${DEFAULT-VALUE}: the dirty"
              + " extents of a large disk take a while to compute).")
  int inactivityTimeout;

  @Option(
      names = "--keep",
      paramLabel = "N",
      description =
          "After a backup that succeeded, keep the VM's newest N backups and those they build on;"
              + " remove its other backups and the engine checkpoints only they had created.")
  Integer keep;

  /** The values of --mode. */
  static final class Modes extends ArrayList<String> {
    Modes() {
      super(BaseChoice.MODES);
    }
  }

  @Override
  OvirtOptions ovirt() {
    return ovirt;
  }

  @Override
  Path filePath() {
    return repo;
  }

  @Override
  public Integer call() {
    if (vms == null || vms.isEmpty()) {
      throw new picocli.CommandLine.ParameterException(
          spec.commandLine(), "Missing required parameter: 'VM'");
    }
    if (repo == null) {
      throw DiskferryException.badInput("no repository: use --repo DIR or the profile key repo");
    }
    if (glance()) {
      throw DiskferryException.badInput(
          "backup works with oVirt only; a cloud (--cloud or OS_CLOUD) selects Glance");
    }
    if (!BaseChoice.MODES.contains(mode)) {
      throw DiskferryException.badInput(
          "--mode must be auto, full or incremental, not '" + mode + "'");
    }
    if (ovirt.verify) {
      throw DiskferryException.badInput("--verify is not available for backups yet");
    }
    if (ovirt.cancelOnInterrupt) {
      throw DiskferryException.badInput(
          "--cancel-on-interrupt does not apply to backups: a backup always ends its transfers");
    }
    if (inactivityTimeout < 0) {
      throw DiskferryException.badInput("--inactivity-timeout must not be negative");
    }
    TransferRequest transfer =
        new TransferRequest(
            Direction.DOWNLOAD, null, null, null, null, "qcow2", false, null, checkedWorkers(),
            checkedBufferSize(), ovirt.host, ovirt.useProxy, null, inactivityTimeout, false,
            heartbeat(),
            checkedRangeSize());
    if (keep != null && keep < 1) {
      throw DiskferryException.badInput("--keep must be at least 1");
    }
    BackupRun.Options options =
        new BackupRun.Options(mode, disks, transfer, retryPolicy(), keep == null ? 0 : keep);
    Repository repository = new Repository(repo);
    // Before anything starts on the engine.
    repository.checkWritable();
    TransferListener listener = listener();
    List<BackupRun.Result> results = new ArrayList<>();
    try (OvirtBackend backend = connect()) {
      BackupRun run = new BackupRun(backend, repository, listener, options);
      if (cli().signals) {
        Signals.install(sig -> run.interrupt("interrupted by " + sig));
      }
      for (String vm : vms) {
        BackupRun.Result r = run.run(vm);
        results.add(r);
        if (r.error() != null && !json()) {
          cli().error(r.error());
        }
      }
    }
    print(results);
    return exitCode(results);
  }

  /** 0 when every VM succeeded; else the first failure's code; 5 when VMs were only skipped. */
  static int exitCode(List<BackupRun.Result> results) {
    int skipped = 0;
    for (BackupRun.Result r : results) {
      if ("failed".equals(r.status())) {
        return r.exitCode();
      }
      if ("skipped".equals(r.status())) {
        skipped = r.exitCode();
      }
    }
    return skipped;
  }

  private void print(List<BackupRun.Result> results) {
    if (json()) {
      List<Object> list = new ArrayList<>();
      for (BackupRun.Result r : results) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("vm", r.vm());
        o.put("vm_id", r.vmId());
        o.put("vm_name", r.vmName());
        o.put("status", r.status());
        o.put("backup_id", r.backupId());
        o.put("mode", r.mode());
        o.put("dir", r.dir() == null ? null : r.dir().toString());
        o.put("bytes", r.bytes());
        o.put("seconds", Math.round(r.seconds() * 1000) / 1000.0);
        List<Object> ds = new ArrayList<>();
        for (Manifest.DiskEntry d : r.disks()) {
          Map<String, Object> m = new LinkedHashMap<>();
          m.put("id", d.id());
          m.put("alias", d.alias());
          m.put("backup_mode", d.backupMode());
          m.put("file", d.file());
          m.put("bytes", d.bytes());
          ds.add(m);
        }
        o.put("disks", ds);
        o.put("removed", r.removed());
        o.put("error", r.error());
        o.put("exit_code", r.exitCode());
        list.add(o);
      }
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("command", "backup");
      out.put("repo", Path.of(repo.toString()).toAbsolutePath().normalize().toString());
      out.put("results", list);
      printJson(out);
      return;
    }
    for (BackupRun.Result r : results) {
      String who = r.vmName() != null ? r.vmName() : r.vm();
      if ("succeeded".equals(r.status())) {
        out().printf(
            "%s: %s backup %s of %d disk%s, %s moved in %.1f s: %s%n",
            who, r.mode(), r.backupId(), r.disks().size(), r.disks().size() == 1 ? "" : "s",
            ByteSizes.format(r.bytes()), r.seconds(), r.dir());
      } else {
        out().printf("%s: %s: %s%n", who, r.status(), r.error());
      }
    }
  }
}
