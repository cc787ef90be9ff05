package org.diskferry.sandbox;

import static org.diskferry.sandbox.ApiSupport.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.diskferry.http.Json;

/** {@code /vms/ID/backups} and {@code /vms/ID/checkpoints}: the VM backup API (engine 4.5, legacy). */
final class BackupsResource {
  private static final Set<String> BACKUP_PROPS = Set.of(
      "id", "href", "name", "description", "comment", "creation_date", "modification_date",
      "from_checkpoint_id", "to_checkpoint_id", "disks", "phase", "host", "snapshot", "vm",
      "link", "actions");
  private static final Set<String> IN_BACKUP = Set.of("starting", "ready", "finalizing");

  private final Sandbox sb;
  private final DisksResource disks;

  BackupsResource(Sandbox sb, DisksResource disks) {
    this.sb = sb;
    this.disks = disks;
  }

  /** {@code /vms/ID/backups[/BID[/disks[/DID]|/finalize]]}. */
  Reply backups(Exchange ex, String[] seg, Map<String, String> extra) throws IOException {
    String method = ex.method();
    if (seg.length == 3) {
      if (method.equals("POST")) {
        return add(ex, seg[1], extra);
      }
      requireMethod(method, "GET");
      synchronized (sb.lock) {
        Vm vm = sb.vmBackups.vm(seg[1]);
        List<ObjectNode> items = new ArrayList<>();
        for (Backup b : sb.vmBackups.backups.values()) {
          if (b.vm == vm) {
            items.add(render(b));
          }
        }
        return new Reply(200, collection("backup", items));
      }
    }
    if (seg.length == 5 && seg[4].equals("finalize")) {
      requireMethod(method, "POST");
      ex.readSmallBody(1 << 20); // the action body carries nothing the engine reads
      synchronized (sb.lock) {
        sb.vmBackups.finalizeBackup(backup(seg));
      }
      return new Reply(200, obj().put("status", "complete"));
    }
    requireMethod(method, "GET");
    synchronized (sb.lock) {
      Backup b = backup(seg);
      if (seg.length == 4) {
        return new Reply(200, render(b));
      }
      if (!seg[4].equals("disks") || seg.length > 6) {
        throw ApiException.notFound();
      }
      long now = System.nanoTime();
      List<ObjectNode> items = new ArrayList<>();
      for (String did : b.diskIds) {
        Disk d = sb.disks.get(did);
        if (d == null || seg.length == 6 && !seg[5].equals(did)) {
          continue;
        }
        ObjectNode o = disks.renderDisk(d, now);
        String mode = b.modes.get(did);
        if (mode != null && IN_BACKUP.contains(b.phase)) {
          o.put("backup_mode", mode);
        }
        o.put("href", API + "/vms/" + b.vm.id + "/backups/" + b.id + "/disks/" + did);
        items.add(o);
      }
      if (seg.length == 6) {
        if (items.isEmpty()) {
          throw ApiException.notFound();
        }
        return new Reply(200, items.get(0));
      }
      return new Reply(200, collection("disk", items));
    }
  }

  private Backup backup(String[] seg) {
    Vm vm = sb.vmBackups.vm(seg[1]);
    Backup b = sb.vmBackups.backups.get(seg[3]);
    if (b == null || b.vm != vm) {
      throw ApiException.notFound();
    }
    return b;
  }

  private Reply add(Exchange ex, String vmId, Map<String, String> extra) throws IOException {
    synchronized (sb.lock) {
      sb.vmBackups.vm(vmId); // 404 before the body is looked at, as the engine does
    }
    JsonNode n = readBody(sb, ex, BACKUP_PROPS, "vm_backups/methods/add");
    JsonNode refs = n.path("disks").path("disk");
    if (refs.isObject()) {
      refs = Json.mapper().createArrayNode().add(refs);
    }
    if (!refs.isArray() || refs.size() == 0) {
      throw ApiException.fault(400, "Incomplete parameters", "Backup [disks] required for add");
    }
    List<String> diskIds = new ArrayList<>();
    for (JsonNode r : refs) {
      String id = r.isObject() ? text(r, "id") : null;
      if (id == null) {
        throw ApiException.fault(400, "Incomplete parameters", "Disk [id] required for add");
      }
      diskIds.add(id);
    }
    synchronized (sb.lock) {
      Vm vm = sb.vmBackups.vm(vmId);
      Backup b = sb.vmBackups.start(vm, text(n, "id"), text(n, "from_checkpoint_id"),
          text(n, "description"), diskIds);
      extra.put("location", sb.engineUrl() + API + "/vms/" + vm.id + "/backups/" + b.id);
      return new Reply(201, render(b));
    }
  }

  private static ObjectNode render(Backup b) {
    ObjectNode o = obj();
    String href = API + "/vms/" + b.vm.id + "/backups/" + b.id;
    actions(o, href, List.of("finalize"));
    links(o, href, "disks");
    o.put("creation_date", b.createdMillis);
    o.put("modification_date", b.modifiedMillis);
    if (b.description != null) {
      o.put("description", b.description);
    }
    if (b.fromCheckpointId != null) {
      o.put("from_checkpoint_id", b.fromCheckpointId);
    }
    if (b.toCheckpointId != null && !b.phase.equals("failed")) {
      o.put("to_checkpoint_id", b.toCheckpointId);
    }
    o.put("phase", b.phase);
    if (b.vm.up()) {
      o.set("host", ref("hosts", Sandbox.HOST_ID));
    }
    o.set("vm", ref("vms", b.vm.id));
    o.put("href", href);
    o.put("id", b.id);
    return o;
  }

  /** {@code /vms/ID/checkpoints[/CID[/disks]]}: list, get, delete. */
  Reply checkpoints(Exchange ex, String[] seg) throws IOException {
    String method = ex.method();
    if (seg.length == 4 && method.equals("DELETE")) {
      synchronized (sb.lock) {
        sb.vmBackups.deleteCheckpoint(sb.vmBackups.vm(seg[1]), seg[3]);
      }
      return new Reply(200, obj().put("status", "complete"));
    }
    requireMethod(method, "GET");
    synchronized (sb.lock) {
      Vm vm = sb.vmBackups.vm(seg[1]);
      if (seg.length == 3) {
        List<ObjectNode> items = new ArrayList<>();
        for (Checkpoint c : sb.vmBackups.checkpointsOf(vm.id)) {
          items.add(render(c));
        }
        return new Reply(200, collection("checkpoint", items));
      }
      Checkpoint c = sb.vmBackups.checkpoints.get(seg[3]);
      if (c == null || !c.vmId.equals(vm.id) || seg.length > 5) {
        throw ApiException.notFound();
      }
      if (seg.length == 4) {
        return new Reply(200, render(c));
      }
      if (!seg[4].equals("disks")) {
        throw ApiException.notFound();
      }
      long now = System.nanoTime();
      List<ObjectNode> items = new ArrayList<>();
      for (String did : c.diskIds) {
        Disk d = sb.disks.get(did);
        if (d != null) {
          items.add(disks.renderDisk(d, now));
        }
      }
      return new Reply(200, collection("disk", items));
    }
  }

  private static ObjectNode render(Checkpoint c) {
    ObjectNode o = obj();
    String href = API + "/vms/" + c.vmId + "/checkpoints/" + c.id;
    links(o, href, "disks");
    o.put("creation_date", c.createdMillis);
    if (c.description != null) {
      o.put("description", c.description);
    }
    if (c.parentId != null) {
      o.put("parent_id", c.parentId);
    }
    o.put("state", "created");
    o.set("vm", ref("vms", c.vmId));
    o.put("href", href);
    o.put("id", c.id);
    return o;
  }
}
