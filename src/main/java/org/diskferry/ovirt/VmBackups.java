package org.diskferry.ovirt;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.diskferry.error.DiskferryException;
import org.diskferry.http.Json;

/**
 * The engine's VM backup API (engine 4.4+): VMs, their disk attachments, backups (start, phases,
 * per-disk {@code backup_mode}, finalize), checkpoints and the image transfers of a backup's disks.
 * Requests go through {@link EngineClient}'s session, so logins, re-logins and errors work the same
 * as for disks and transfers.
 */
public final class VmBackups {

  /** How long a backup may take to become ready (scratch disks, bitmaps, a snapshot). */
  public static final Duration READY_TIMEOUT = Duration.ofMinutes(30);

  /** How long a finalized backup may take to end (a hybrid backup merges its snapshot). */
  public static final Duration FINISH_TIMEOUT = Duration.ofMinutes(60);

  private final EngineClient engine;

  public VmBackups(EngineClient engine) {
    this.engine = engine;
  }

  /** A VM. */
  public record Vm(String id, String name, String status) {}

  /**
   * A disk attached to a VM, with what decides whether it can be backed up.
   *
   * @param format {@code cow} or {@code raw}
   * @param backup the disk's capability: {@code incremental} or {@code none}
   * @param storageType {@code image}, {@code lun}, {@code cinder}, ...
   */
  public record VmDisk(
      String id,
      String alias,
      String format,
      long provisionedSize,
      boolean shareable,
      boolean active,
      String storageType,
      String backup,
      String status) {

    /** Why the engine cannot back this disk up, or null when it can. */
    public String whyNotBackedUp() {
      if (storageType != null && !"image".equals(storageType)) {
        return storageType.equals("lun") ? "a direct LUN" : "a " + storageType + " disk";
      }
      if (shareable) {
        return "shareable";
      }
      if (!active) {
        return "not active on the VM";
      }
      return null;
    }
  }

  /**
   * A backup as the engine reports it.
   *
   * @param phase {@code initializing}, {@code starting}, {@code ready}, {@code finalizing},
   *     {@code succeeded} or {@code failed}
   * @param toCheckpointId known once the backup is ready; null for a backup that creates none
   */
  public record Backup(
      String id, String phase, String fromCheckpointId, String toCheckpointId, Instant created) {

    public boolean isFinal() {
      return "succeeded".equals(phase) || "failed".equals(phase);
    }
  }

  /** A checkpoint of a VM: the point a later incremental backup can start from. */
  public record Checkpoint(String id, String parentId, String state, Instant created) {}

  /** The engine refused a backup's {@code from_checkpoint_id} (HTTP 400). */
  public static final class CheckpointRefused extends DiskferryException {
    public CheckpointRefused(String message) {
      super(Kind.FAILED, message);
    }
  }

  // ---------------------------------------------------------------- VMs and disks

  /** A VM by id (a UUID) or by exact name; NOT_FOUND "VM X not found". */
  public Vm vm(String idOrName) {
    if (OvirtBackend.isUuid(idOrName)) {
      String id = idOrName.toLowerCase(Locale.ROOT);
      return toVm(get(List.of("vms", id), List.of(), "get VM " + id, "VM " + id + " not found"));
    }
    String value =
        idOrName.chars().anyMatch(Character::isWhitespace)
            ? "\"" + idOrName.replace("\"", "") + "\""
            : idOrName;
    JsonNode root =
        get(List.of("vms"), List.of("search", "name=" + value, "case_sensitive", "true"),
            "look up VM '" + idOrName + "'", null);
    List<Vm> found = new ArrayList<>();
    for (JsonNode n : items(root, "vm")) {
      Vm vm = toVm(n);
      if (idOrName.equals(vm.name())) {
        found.add(vm);
      }
    }
    if (found.isEmpty()) {
      throw DiskferryException.notFound("VM '" + idOrName + "' not found");
    }
    return found.get(0);
  }

  /** The VM's disks, in attachment order, each with its attachment's {@code active} flag. */
  public List<VmDisk> disks(String vmId) {
    JsonNode root =
        get(List.of("vms", vmId, "diskattachments"), List.of(), "list the disks of VM " + vmId,
            "VM " + vmId + " not found");
    List<VmDisk> out = new ArrayList<>();
    for (JsonNode a : items(root, "disk_attachment")) {
      String diskId = text(a.path("disk"), "id");
      if (diskId == null) {
        diskId = text(a, "id");
      }
      boolean active = !"false".equals(text(a, "active"));
      JsonNode d = a.path("disk");
      if (text(d, "format") == null) {
        d = get(List.of("disks", diskId), List.of(), "get disk " + diskId,
            "disk " + diskId + " not found");
      }
      out.add(toDisk(d, diskId, active));
    }
    return out;
  }

  /**
   * The VM's configuration as OVF ({@code GET /vms/ID?all_content=true}, {@code
   * initialization.configuration.data}); empty when the engine does not include it.
   */
  public Optional<String> ovf(String vmId) {
    JsonNode vm =
        get(List.of("vms", vmId), List.of("all_content", "true"), "get the configuration of VM "
            + vmId, "VM " + vmId + " not found");
    String data = text(vm.path("initialization").path("configuration"), "data");
    return Optional.ofNullable(data).filter(s -> !s.isBlank());
  }

  // ---------------------------------------------------------------- backups

  /**
   * Starts a backup ({@code POST /vms/ID/backups}) with an id chosen by the caller, so that a
   * crashed run can find it again.
   *
   * @param fromCheckpoint null for a full backup
   * @throws CheckpointRefused when the engine answers 400 to an incremental backup
   * @throws DiskferryException CONFLICT (409) when the VM is being backed up already
   */
  public Backup start(
      String vmId, String backupId, String fromCheckpoint, List<String> diskIds,
      String description) {
    ObjectNode body = Json.mapper().createObjectNode();
    body.put("id", backupId);
    if (fromCheckpoint != null) {
      body.put("from_checkpoint_id", fromCheckpoint);
    }
    if (description != null) {
      body.put("description", description);
    }
    var disks = body.putObject("disks").putArray("disk");
    for (String d : diskIds) {
      disks.addObject().put("id", d);
    }
    String action = "start a backup of VM " + vmId;
    EngineClient.Reply r =
        engine.request("POST", List.of("vms", vmId, "backups"), List.of(), body, action);
    if (r.ok()) {
      return toBackup(parse(r.body(), action));
    }
    if (r.code() == 400 && fromCheckpoint != null) {
      String detail = EngineErrors.forStatus(400, r.body(), action, null).getMessage();
      throw new CheckpointRefused(detail);
    }
    if (r.code() == 409) {
      DiskferryException e = EngineErrors.forStatus(409, r.body(), action, null);
      throw DiskferryException.conflict(
          e.getMessage().toLowerCase(Locale.ROOT).contains("during a backup")
              ? "VM " + vmId + " is being backed up elsewhere (the engine has a backup of it"
                  + " running); skipped"
              : e.getMessage());
    }
    throw EngineErrors.forStatus(r.code(), r.body(), action, "VM " + vmId + " not found");
  }

  /** The backup, or empty once the engine has removed it (404). */
  public Optional<Backup> backup(String vmId, String backupId) {
    String action = "get backup " + backupId + " of VM " + vmId;
    EngineClient.Reply r =
        engine.request("GET", List.of("vms", vmId, "backups", backupId), List.of(), null, action);
    if (r.code() == 404) {
      return Optional.empty();
    }
    if (!r.ok()) {
      throw EngineErrors.forStatus(r.code(), r.body(), action, null);
    }
    return Optional.of(toBackup(parse(r.body(), action)));
  }

  /**
   * Polls (fast first, then backing off) until the backup is ready; fails if it fails or goes.
   *
   * @param beforePoll runs before each poll; may throw to stop waiting (an interrupt)
   */
  public Backup waitReady(String vmId, String backupId, Duration timeout, Runnable beforePoll) {
    String[] last = {"unknown"};
    return Poll.until(
        timeout,
        () -> "backup " + backupId + " of VM " + vmId + " to be ready (phase: " + last[0] + ")",
        () -> {
          beforePoll.run();
          Backup b =
              backup(vmId, backupId)
                  .orElseThrow(
                      () ->
                          DiskferryException.failed(
                              "backup " + backupId + " of VM " + vmId
                                  + " disappeared before it was ready"));
          last[0] = b.phase();
          if (b.isFinal()) {
            throw DiskferryException.failed(
                "the engine ended backup " + backupId + " of VM " + vmId + " (" + b.phase()
                    + ") before it was ready; see the engine's events for the reason");
          }
          return "ready".equals(b.phase()) ? Optional.of(b) : Optional.empty();
        });
  }

  /** Each disk of the backup with its {@code backup_mode} ({@code full} or {@code incremental}). */
  public Map<String, String> backupModes(String vmId, String backupId) {
    JsonNode root =
        get(List.of("vms", vmId, "backups", backupId, "disks"), List.of(),
            "list the disks of backup " + backupId, "backup " + backupId + " not found");
    Map<String, String> out = new LinkedHashMap<>();
    for (JsonNode d : items(root, "disk")) {
      String mode = text(d, "backup_mode");
      out.put(text(d, "id"), mode == null ? "full" : mode.toLowerCase(Locale.ROOT));
    }
    return out;
  }

  /**
   * {@code POST .../finalize}: ends the backup (also the only way to abort one). A backup that is
   * already finalizing or over is left as it is.
   */
  public void finalizeBackup(String vmId, String backupId) {
    String action = "finalize backup " + backupId + " of VM " + vmId;
    EngineClient.Reply r =
        engine.request(
            "POST", List.of("vms", vmId, "backups", backupId, "finalize"), List.of(), null,
            action);
    if (r.ok() || r.code() == 404) {
      return;
    }
    if (r.code() == 400) {
      Optional<Backup> b = backup(vmId, backupId);
      if (b.isEmpty() || b.get().isFinal() || "finalizing".equals(b.get().phase())) {
        return;
      }
    }
    throw EngineErrors.forStatus(r.code(), r.body(), action, null);
  }

  /** Polls until the backup has ended; its last phase ({@code succeeded} when it is gone). */
  public String waitFinished(String vmId, String backupId, Duration timeout) {
    return Poll.until(
        timeout,
        "backup " + backupId + " of VM " + vmId + " to finish",
        () -> {
          Optional<Backup> b = backup(vmId, backupId);
          if (b.isEmpty()) {
            // Engines before 4.4.7 remove a backup when it ends, and have no final phases.
            return Optional.of("succeeded");
          }
          return b.get().isFinal() ? Optional.of(b.get().phase()) : Optional.empty();
        });
  }

  /**
   * Starts the download of one disk of a ready backup: {@code disk} + {@code backup}, format raw
   * (the NBD backend exporting the disk at the backup's point in time).
   *
   * @param hostId null to let the engine choose (for a running VM it always takes the VM's host)
   */
  public ImageTransfer createTransfer(
      String diskId, String backupId, String hostId, Integer inactivityTimeout) {
    ObjectNode body = Json.mapper().createObjectNode();
    body.putObject("disk").put("id", diskId);
    body.putObject("backup").put("id", backupId);
    if (hostId != null) {
      body.putObject("host").put("id", hostId);
    }
    body.put("direction", "download");
    body.put("format", "raw");
    if (inactivityTimeout != null) {
      body.put("inactivity_timeout", inactivityTimeout);
    }
    String action = "start the download of disk " + diskId + " of backup " + backupId;
    EngineClient.Reply r =
        engine.request("POST", List.of("imagetransfers"), List.of(), body, action);
    if (!r.ok()) {
      throw EngineErrors.forStatus(r.code(), r.body(), action, "disk " + diskId + " not found");
    }
    try {
      return Json.mapper().treeToValue(parse(r.body(), action), ImageTransfer.class);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      throw DiskferryException.failed(
          "cannot " + action + ": the engine's answer is not a valid ImageTransfer entity");
    }
  }

  /**
   * Ends what a run that died left of a backup: finalizes the backup's transfers that are still
   * open, waits until they have ended, then finalizes the backup and waits until it has ended.
   * Returns the backup's last phase ({@code succeeded} when the engine no longer knows it).
   */
  public String finalizeLeftOver(String vmId, String backupId) {
    JsonNode root = get(List.of("imagetransfers"), List.of(), "list image transfers", null);
    for (JsonNode t : items(root, "image_transfer")) {
      String phase = text(t, "phase");
      if (backupId.equals(text(t.path("backup"), "id"))
          && phase != null && !phase.startsWith("finished") && !phase.startsWith("cancelled")) {
        String id = text(t, "id");
        engine.finalizeTransfer(id);
        Poll.until(
            OvirtSession.CANCEL_TIMEOUT,
            "transfer " + id + " of backup " + backupId + " to finish",
            () -> {
              Optional<ImageTransfer> now = engine.findTransfer(id);
              return now.isEmpty() || now.get().phase().isFinished()
                  ? Optional.of(true)
                  : Optional.empty();
            });
      }
    }
    finalizeBackup(vmId, backupId);
    return waitFinished(vmId, backupId, FINISH_TIMEOUT);
  }

  // ---------------------------------------------------------------- checkpoints

  /** The VM's checkpoints, oldest first. */
  public List<Checkpoint> checkpoints(String vmId) {
    JsonNode root =
        get(List.of("vms", vmId, "checkpoints"), List.of(), "list the checkpoints of VM " + vmId,
            "VM " + vmId + " not found");
    List<Checkpoint> out = new ArrayList<>();
    for (JsonNode c : items(root, "checkpoint")) {
      out.add(
          new Checkpoint(
              text(c, "id"), text(c, "parent_id"), text(c, "state"), date(c, "creation_date")));
    }
    return out;
  }

  /** {@code DELETE /vms/ID/checkpoints/CP}; a checkpoint that is gone already is fine. */
  public void deleteCheckpoint(String vmId, String checkpointId) {
    String action = "delete checkpoint " + checkpointId + " of VM " + vmId;
    EngineClient.Reply r =
        engine.request(
            "DELETE", List.of("vms", vmId, "checkpoints", checkpointId), List.of(), null, action);
    if (!r.ok() && r.code() != 404) {
      throw EngineErrors.forStatus(r.code(), r.body(), action, null);
    }
  }

  // ---------------------------------------------------------------- JSON

  private JsonNode get(List<String> path, List<String> query, String action, String notFound) {
    EngineClient.Reply r = engine.request("GET", path, query, null, action);
    if (r.code() != 200) {
      throw EngineErrors.forStatus(r.code(), r.body(), action, notFound);
    }
    return parse(r.body(), action);
  }

  private static JsonNode parse(String body, String action) {
    return EngineClient.json(body, action);
  }

  /** The items of a collection {"key": [...]}; an empty collection is {} (no key). */
  private static List<JsonNode> items(JsonNode root, String key) {
    List<JsonNode> out = new ArrayList<>();
    JsonNode items = root == null ? null : root.get(key);
    if (items == null || items.isNull()) {
      return out;
    }
    if (items.isArray()) {
      items.forEach(out::add);
    } else if (items.isObject()) {
      out.add(items);
    }
    return out;
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n == null ? null : n.get(field);
    return v == null || v.isNull() ? null : v.asText();
  }

  /** The engine's dates: ISO-8601 text or epoch milliseconds (as a number or a string). */
  static Instant date(JsonNode n, String field) {
    String t = text(n, field);
    if (t == null || t.isBlank()) {
      return null;
    }
    if (t.chars().allMatch(Character::isDigit)) {
      return Instant.ofEpochMilli(Long.parseLong(t));
    }
    try {
      return java.time.OffsetDateTime.parse(t).toInstant();
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private static Vm toVm(JsonNode n) {
    return new Vm(text(n, "id"), text(n, "name"), text(n, "status"));
  }

  private static Backup toBackup(JsonNode n) {
    String phase = text(n, "phase");
    return new Backup(
        text(n, "id"),
        phase == null ? "unknown" : phase.toLowerCase(Locale.ROOT),
        text(n, "from_checkpoint_id"),
        text(n, "to_checkpoint_id"),
        date(n, "creation_date"));
  }

  private static VmDisk toDisk(JsonNode d, String id, boolean active) {
    String size = text(d, "provisioned_size");
    String alias = text(d, "alias");
    return new VmDisk(
        id,
        alias != null ? alias : text(d, "name"),
        text(d, "format"),
        size == null ? 0 : Long.parseLong(size),
        "true".equals(text(d, "shareable")),
        active,
        text(d, "storage_type"),
        text(d, "backup"),
        text(d, "status"));
  }
}
