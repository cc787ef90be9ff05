package org.diskferry.cli;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.diskferry.cli.progress.ByteSizes;
import org.diskferry.ovirt.EngineClient;
import org.diskferry.ovirt.ImageTransfer;
import org.diskferry.ovirt.OvirtBackend;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/** {@code diskferry status [TRANSFER_ID]}: show one transfer or all that the engine knows. */
@Command(
    name = "status",
    mixinStandardHelpOptions = true,
    description = "Show one transfer, or all transfers the engine knows.")
final class StatusCommand extends EngineCommand {

  @Parameters(index = "0", arity = "0..1", paramLabel = "TRANSFER_ID", description = "A transfer id.")
  String transferId;

  @Override
  public Integer call() {
    try (OvirtBackend backend = connect()) {
      EngineClient engine = backend.engine();
      List<ImageTransfer> transfers =
          transferId != null ? List.of(engine.transfer(transferId)) : engine.transfers();
      if (json()) {
        List<Map<String, Object>> list = new ArrayList<>();
        for (ImageTransfer t : transfers) {
          list.add(toJson(t));
        }
        printJson(transferId != null ? list.get(0) : list);
      } else if (transfers.isEmpty()) {
        out().println("no transfers");
      } else {
        out().printf("%-36s  %-36s  %-9s  %-18s  %s%n", "ID", "DISK", "DIRECTION", "PHASE",
            "TRANSFERRED");
        for (ImageTransfer t : transfers) {
          out().printf(
              "%-36s  %-36s  %-9s  %-18s  %s%n",
              t.id(),
              t.diskId() == null ? "-" : t.diskId(),
              t.direction() == null ? "-" : t.direction(),
              t.phase().wire(),
              t.transferred() == null ? "-" : ByteSizes.format(t.transferred()));
        }
      }
      return 0;
    } finally {
      closeLog();
    }
  }

  static Map<String, Object> toJson(ImageTransfer t) {
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("id", t.id());
    o.put("disk_id", t.diskId());
    o.put("direction", t.direction());
    o.put("phase", t.phase().wire());
    o.put("transferred", t.transferred());
    o.put("active", t.active());
    o.put("host_id", t.hostId());
    o.put("inactivity_timeout", t.inactivityTimeout());
    o.put("timeout_policy", t.timeoutPolicy());
    return o;
  }
}
