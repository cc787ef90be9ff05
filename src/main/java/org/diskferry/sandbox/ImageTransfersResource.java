package org.diskferry.sandbox;

import static org.diskferry.sandbox.ApiSupport.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/** {@code /imagetransfers}: transfer sessions of a disk's data (the engine side). */
final class ImageTransfersResource {
  private static final Set<String> TRANSFER_PROPS = Set.of(
      "id", "href", "name", "description", "comment", "active", "backup", "direction", "disk",
      "format", "host", "image", "inactivity_timeout", "phase", "proxy_url", "shallow",
      "snapshot", "timeout_policy", "transfer_url", "transferred", "link", "actions");
  private static final List<String> TRANSFER_ACTIONS =
      List.of("cancel", "extend", "finalize", "pause", "resume");

  private final Sandbox sb;

  ImageTransfersResource(Sandbox sb) {
    this.sb = sb;
  }

  private ObjectNode renderTransfer(Transfer t) {
    ObjectNode o = obj();
    Ticket k = t.ticket;
    o.put("active", s(k != null && k.active.get() > 0));
    o.put("direction", t.download ? "download" : "upload");
    o.put("format", t.format);
    o.put("inactivity_timeout", s(t.inactivityTimeout));
    o.put("phase", t.phase);
    if (k != null) {
      o.put("proxy_url", sb.engineUrl() + "/images/" + k.uuid);
    }
    o.put("shallow", s(t.shallow));
    o.put("timeout_policy", t.timeoutPolicy);
    if (k != null) {
      o.put("transfer_url", sb.daemonUrl() + "/images/" + k.uuid);
    }
    o.put("transferred", s(k != null ? k.transferred() : t.transferred));
    o.set("host", ref("hosts", t.hostId));
    o.putObject("image").put("id", t.disk.id);
    if (t.backup != null) {
      o.set("backup", ref("vms/" + t.backup.vm.id + "/backups", t.backup.id));
    }
    String href = API + "/imagetransfers/" + t.id;
    actions(o, href, TRANSFER_ACTIONS);
    o.put("href", href);
    o.put("id", t.id);
    return o;
  }

  Reply handle(Exchange ex, String[] seg, Map<String, String> extra) throws IOException {
    String method = ex.method();
    if (seg.length == 1) {
      if (method.equals("GET")) {
        List<ObjectNode> items = new ArrayList<>();
        synchronized (sb.lock) {
          for (Transfer t : sb.transfers.values()) {
            items.add(renderTransfer(t));
          }
        }
        return new Reply(200, collection("image_transfer", limit(ex, items)));
      }
      requireMethod(method, "POST");
      return addTransfer(ex, extra);
    }
    String id = seg[1];
    if (!UUID_RE.matcher(id).matches() || seg.length > 3) {
      throw ApiException.notFound();
    }
    if (seg.length == 2) {
      requireMethod(method, "GET");
      synchronized (sb.lock) {
        Transfer t = sb.transfers.get(id);
        if (t == null) {
          throw ApiException.notFound();
        }
        return new Reply(200, renderTransfer(t));
      }
    }
    String action = seg[2];
    if (!TRANSFER_ACTIONS.contains(action)) {
      throw ApiException.notFound();
    }
    requireMethod(method, "POST");
    ex.readSmallBody(1 << 20); // the engine ignores the action body
    long now = System.nanoTime();
    synchronized (sb.lock) {
      Transfer t = sb.transfers.get(id);
      if (t != null && !t.finished()) {
        switch (action) {
          case "extend":
            t.lastUpdatedMillis = System.currentTimeMillis();
            break;
          case "pause":
            if (t.download) {
              throw ApiException.failed(400, "Cannot pause image download as it's handled by the "
                  + "client. Note that it can be canceled if you wish to stop it.");
            }
            sb.setPhase(t, "paused_user", now);
            break;
          case "resume":
            if (!t.paused()) {
              throw ApiException.failed(409, "Cannot resume image transfer as it's not in a paused state.");
            }
            sb.setPhase(t, "resuming", now);
            break;
          case "cancel":
            sb.setPhase(t, "cancelled_user", now);
            break;
          case "finalize":
            t.finalizeReady = false;
            sb.setPhase(t, "finalizing_success", now);
            break;
          default:
            throw ApiException.notFound();
        }
      }
    }
    if (async(ex)) {
      return new Reply(202, null);
    }
    return new Reply(200, obj().put("status", "complete"));
  }

  private Reply addTransfer(Exchange ex, Map<String, String> extra) throws IOException {
    JsonNode n = readBody(sb, ex, TRANSFER_PROPS, "imagetransfers/methods/add");
    String diskId = null;
    for (String f : List.of("disk", "image")) {
      JsonNode r = n.get(f);
      if (r != null && r.isObject() && text(r, "id") != null) {
        diskId = text(r, "id");
        break;
      }
    }
    if (diskId == null) {
      JsonNode snap = n.get("snapshot");
      JsonNode backup = n.get("backup");
      if (snap != null && snap.isObject() && text(snap, "id") != null) {
        throw ApiException.fault(404, "Operation Failed", "Entity not found: " + text(snap, "id"));
      }
      if (backup != null && backup.isObject() && text(backup, "id") != null) {
        throw ApiException.fault(404, "Operation Failed", "Entity not found: " + text(backup, "id"));
      }
      throw ApiException.fault(400, "Input validation failed.",
          "No matching signature found, make sure that mandatory attributes are provided.");
    }
    if (!UUID_RE.matcher(diskId).matches()) {
      throw ApiException.fault(400, "Invalid value", "'" + diskId + "' is not a valid UUID.");
    }
    String direction = enumValue(n, "direction", "ImageTransferDirection", List.of("download", "upload"));
    boolean download = "download".equals(direction);
    String format = enumValue(n, "format", "DiskFormat", List.of("cow", "raw"));
    Long timeout = number(n, "inactivity_timeout");
    if (timeout != null && (timeout < 0 || timeout > Integer.MAX_VALUE)) {
      throw ApiException.fault(400, "Invalid value", "'" + timeout + "' is not a valid inactivity timeout.");
    }
    String policy = enumValue(n, "timeout_policy", "ImageTransferTimeoutPolicy", List.of("cancel", "legacy", "pause"));
    Boolean shallow = bool(n, "shallow");
    String hostId = Sandbox.HOST_ID;
    JsonNode host = n.get("host");
    if (host != null && host.isObject()) {
      String hid = text(host, "id");
      String hname = text(host, "name");
      if (hid != null && !hid.equals(Sandbox.HOST_ID) || hid == null && hname != null && !hname.equals("host1")) {
        throw ApiException.fault(404, "Operation Failed", "Entity not found: " + (hid != null ? hid : hname));
      }
    }
    long now = System.nanoTime();
    synchronized (sb.lock) {
      Disk d = sb.disks.get(diskId.toLowerCase(Locale.ROOT));
      if (d == null) {
        throw ApiException.fault(404, "Operation Failed", "Entity not found: " + diskId);
      }
      int inactivity =
          timeout == null ? sb.config.defaultInactivityTimeoutSeconds() : timeout.intValue();
      String timeoutPolicy = policy == null ? "legacy" : policy;
      JsonNode backupRef = n.get("backup");
      String backupId = backupRef != null && backupRef.isObject() ? text(backupRef, "id") : null;
      if (backupId != null) {
        Transfer t = backupTransfer(backupId, d, download, format, inactivity, timeoutPolicy,
            hostId);
        return register(t, now, extra);
      }
      if (sb.isLocked(d, now)) {
        throw ApiException.failed(409, "Cannot transfer Virtual Disk: The following disks are locked: "
            + d.name + ". Please try again in a few minutes.");
      }
      if ("illegal".equals(d.status)) {
        throw ApiException.failed(500, "Cannot transfer Virtual Disk: The following disks are in "
            + "ILLEGAL status: " + d.name + ".");
      }
      Vm vm = sb.vmBackups.vmOf(d.id);
      if (vm != null && vm.up()) {
        throw ApiException.failed(409, "Cannot transfer Virtual Disk. Disk " + d.name
            + " is plugged to non-Down VMs: " + vm.name + ". A running VM's disks are"
            + " downloaded through a VM backup.");
      }
      Transfer t = new Transfer(UUID.randomUUID().toString(), d, download,
          format == null ? d.format : format, inactivity, timeoutPolicy,
          shallow != null && shallow, hostId);
      d.status = "locked";
      d.lockHolder = t.id;
      return register(t, now, extra);
    }
  }

  /** A new transfer: recorded, and transferring at once or after its initializing polls. */
  private Reply register(Transfer t, long now, Map<String, String> extra) {
    t.lastUpdatedMillis = System.currentTimeMillis();
    sb.transfers.put(t.id, t);
    t.initPollsLeft = sb.config.initializingPolls();
    if (t.initPollsLeft > 0) {
      sb.setPhase(t, "initializing", now);
    } else {
      sb.startSession(t, now);
    }
    extra.put("location", sb.engineUrl() + API + "/imagetransfers/" + t.id);
    return new Reply(201, renderTransfer(t));
  }

  /**
   * A download of a VM backup's disk: it reads the disk as it was when the backup started, takes
   * no lock on the disk, and offers dirty extents for an incremental disk. Must hold the lock.
   */
  private Transfer backupTransfer(String backupId, Disk d, boolean download, String format,
      int inactivity, String policy, String hostId) {
    Backup b = sb.vmBackups.backups.get(backupId.toLowerCase(Locale.ROOT));
    if (b == null) {
      throw ApiException.fault(404, "Operation Failed", "Entity not found: " + backupId);
    }
    if (!download) {
      throw ApiException.failed(400, "Cannot transfer Virtual Disk. The disks of a VM backup can"
          + " only be downloaded.");
    }
    if ("cow".equals(format)) {
      throw ApiException.failed(400, "Cannot transfer Virtual Disk. The image transfer format is"
          + " not applicable for a VM backup: use raw.");
    }
    if (!b.diskIds.contains(d.id)) {
      throw ApiException.failed(400, "Cannot transfer Virtual Disk. Disk " + d.name
          + " is not part of VM backup " + b.id + ".");
    }
    if (!b.phase.equals("ready")) {
      throw ApiException.failed(409, "Cannot transfer Virtual Disk. VM backup " + b.id
          + " is not ready, backup phase is " + b.phase + ".");
    }
    Transfer t = new Transfer(UUID.randomUUID().toString(), b.copies.get(d.id), true, "raw",
        inactivity, policy, false, hostId);
    t.backup = b;
    t.dirty = b.dirty.get(d.id);
    return t;
  }
}
