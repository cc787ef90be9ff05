package org.diskferry.cli;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.Callable;
import org.diskferry.backup.ChainCheck;
import org.diskferry.backup.Repository;
import org.diskferry.error.DiskferryException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code diskferry backup verify BACKUP}: is a backup's chain whole (no engine needed). */
@Command(
    name = "verify",
    description = {
      "Check a backup and every backup it builds on: each manifest says succeeded, each disk's"
          + " file is there with the recorded size, is a qcow2 image of the disk's size, not"
          + " marked corrupt or dirty, with the backing file the manifest names. Exit 1 when"
          + " something is wrong."
    })
final class BackupVerifyCommand implements Callable<Integer> {

  @ParentCommand BackupCommand backup;

  @picocli.CommandLine.Mixin HelpOption help;

  @picocli.CommandLine.Mixin OutputOptions output;

  @Parameters(index = "0", paramLabel = "BACKUP", description = "A backup's folder.")
  Path dir;

  @Override
  public Integer call() {
    Path d = dir.endsWith(Repository.MANIFEST) ? dir.getParent() : dir;
    if (d == null || !Files.isDirectory(d)) {
      throw DiskferryException.badInput(dir + " is not a backup folder");
    }
    ChainCheck.Report r = ChainCheck.check(d);
    if (output.json()) {
      Map<String, Object> out = new LinkedHashMap<>();
      out.put("command", "backup verify");
      out.put("backup", d.toAbsolutePath().normalize().toString());
      out.put("ok", r.ok());
      out.put("files", r.files().stream().map(Path::toString).toList());
      out.put("problems", r.problems());
      backup.printJson(out);
    } else if (r.ok()) {
      backup.cli().stdout().printf("%s: the chain of %d file%s is whole%n", d, r.files().size(),
          r.files().size() == 1 ? "" : "s");
    } else {
      for (String p : r.problems()) {
        backup.cli().stdout().println(p);
      }
      backup.cli().error(
          "the chain of " + d + " is not whole: " + r.problems().size()
              + " problem" + (r.problems().size() == 1 ? "" : "s") + ", the first: "
              + r.problems().get(0));
    }
    return r.ok() ? 0 : 1;
  }
}
