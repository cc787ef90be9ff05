package org.diskferry.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.diskferry.cli.progress.ByteSizes;
import org.diskferry.ovirt.Disk;
import org.diskferry.ovirt.OvirtBackend;
import picocli.CommandLine.Command;

/** {@code diskferry list}: the engine's disks. */
@Command(
    name = "list",
    description = "List disks (or Glance images with --cloud) with id, name, status, size and format.")
final class ListCommand extends EngineCommand {

  @Override
  public Integer call() {
    if (glance()) {
      return GlanceCommands.list(this);
    }
    try (OvirtBackend backend = connect()) {
      List<Disk> disks = backend.engine().disks();
      if (json()) {
        List<Map<String, Object>> list = new ArrayList<>();
        for (Disk d : disks) {
          Map<String, Object> o = new LinkedHashMap<>();
          o.put("id", d.id());
          o.put("name", d.name());
          o.put("status", d.status());
          o.put("provisioned_size", d.provisionedSize());
          o.put("actual_size", d.actualSize());
          o.put("format", d.format());
          o.put("sparse", d.sparse());
          list.add(o);
        }
        printJson(list);
      } else {
        out().printf("%-36s  %-24s  %-7s  %10s  %s%n", "ID", "NAME", "STATUS", "SIZE", "FORMAT");
        for (Disk d : disks) {
          out().printf(
              "%-36s  %-24s  %-7s  %10s  %s%n",
              d.id(),
              d.name(),
              d.status() == null ? "-" : d.status(),
              ByteSizes.format(d.provisionedSize()),
              d.format());
        }
      }
      return 0;
    }
  }
}
