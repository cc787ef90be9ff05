package org.diskferry.sandbox;

import static org.diskferry.sandbox.ApiSupport.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

/** {@code /disks}: list, search, add, get and remove disks. */
final class DisksResource {
  private static final Set<String> DISK_PROPS = Set.of(
      "id", "href", "name", "description", "comment", "alias", "actual_size", "backup",
      "backup_mode", "bootable", "content_type", "disk_profile", "disk_snapshots",
      "external_disk", "format", "image_id", "initial_size", "instance_type", "interface",
      "logical_name", "lun_storage", "openstack_volume_type", "permissions", "propagate_errors",
      "provisioned_size", "qcow_version", "quota", "read_only", "sgio", "shareable", "snapshot",
      "sparse", "statistics", "status", "storage_domain", "storage_domains", "storage_type",
      "template", "total_size", "uses_scsi_reservation", "vm", "vms", "wipe_after_delete",
      "link", "actions");

  private final Sandbox sb;

  DisksResource(Sandbox sb) {
    this.sb = sb;
  }

  ObjectNode renderDisk(Disk d, long now) {
    ObjectNode o = obj();
    long actual = d.actualSize();
    o.put("actual_size", s(actual));
    o.put("alias", d.name);
    o.put("backup", d.backup);
    o.put("content_type", d.contentType);
    if (d.description != null) {
      o.put("description", d.description);
    }
    o.put("format", d.format);
    o.put("image_id", d.imageId);
    o.put("name", d.name);
    o.put("propagate_errors", "false");
    o.put("provisioned_size", s(d.provisionedSize));
    if (d.format.equals("cow")) {
      o.put("qcow_version", "qcow2_v3");
    }
    o.put("shareable", "false");
    o.put("sparse", s(d.sparse));
    String status = sb.statusOf(d, now);
    if (status != null) {
      o.put("status", status);
    }
    o.put("storage_type", "image");
    o.put("total_size", s(actual));
    o.put("wipe_after_delete", "false");
    StorageDomainsResource.Sd sd = StorageDomainsResource.sdById(d.storageDomainId);
    o.set("disk_profile", ref("diskprofiles", sd == null ? Sandbox.DISK_PROFILE_ID : sd.profileId()));
    o.putObject("storage_domains").putArray("storage_domain").add(ref("storagedomains", d.storageDomainId));
    String href = API + "/disks/" + d.id;
    actions(o, href, List.of("convert", "copy", "export", "move", "reduce", "refreshlun", "sparsify"));
    links(o, href, "disksnapshots", "permissions", "statistics");
    o.put("href", href);
    o.put("id", d.id);
    return o;
  }

  private Map<String, String> diskFields(Disk d, long now) {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("name", d.name);
    f.put("alias", d.name);
    f.put("id", d.id);
    f.put("status", sb.statusOf(d, now));
    f.put("format", d.format);
    f.put("description", d.description == null ? "" : d.description);
    StorageDomainsResource.Sd sd = StorageDomainsResource.sdById(d.storageDomainId);
    if (sd != null) {
      f.put("storage", sd.name());
      f.put("storage.name", sd.name());
    }
    f.put("provisioned_size", s(d.provisionedSize));
    return f;
  }

  JsonNode list(Exchange ex, java.util.function.Predicate<Disk> filter) {
    long now = System.nanoTime();
    List<ObjectNode> items = new ArrayList<>();
    synchronized (sb.lock) {
      for (Disk d : sb.disks.values()) {
        if (filter.test(d) && matches(ex, diskFields(d, now))) {
          items.add(renderDisk(d, now));
        }
      }
    }
    return collection("disk", limit(ex, items));
  }

  Reply handle(Exchange ex, String[] seg, Map<String, String> extra) throws IOException {
    String method = ex.method();
    if (seg.length == 1) {
      if (method.equals("GET")) {
        return new Reply(200, list(ex, d -> true));
      }
      requireMethod(method, "POST");
      return addDisk(ex, extra);
    }
    if (seg.length != 2) {
      throw ApiException.notFound();
    }
    String id = seg[1];
    if (!UUID_RE.matcher(id).matches()) {
      throw ApiException.notFound();
    }
    long now = System.nanoTime();
    synchronized (sb.lock) {
      Disk d = sb.disks.get(id);
      if (d == null) {
        throw ApiException.notFound();
      }
      if (method.equals("GET")) {
        return new Reply(200, renderDisk(d, now));
      }
      requireMethod(method, "DELETE");
      Vm vm = sb.vmBackups.vmOf(d.id);
      if (vm != null) {
        throw ApiException.failed(409, "Cannot remove Virtual Disk. Disk " + d.name
            + " is attached to VM " + vm.name + ".");
      }
      if (sb.isLocked(d, now)) {
        throw ApiException.failed(409, "Cannot remove Virtual Disk. The following disks are locked: "
            + d.name + ". Please try again in a few minutes.");
      }
      sb.removeDisk(d);
    }
    return new Reply(200, obj().put("status", "complete"));
  }

  private Reply addDisk(Exchange ex, Map<String, String> extra) throws IOException {
    JsonNode n = readBody(sb, ex, DISK_PROPS, "disks/methods/add");
    String format = enumValue(n, "format", "DiskFormat", List.of("cow", "raw"));
    Long size = number(n, "provisioned_size");
    List<String> missing = new ArrayList<>();
    if (size == null) {
      missing.add("provisionedSize");
    }
    if (format == null) {
      missing.add("format");
    }
    if (!missing.isEmpty()) {
      throw ApiException.fault(400, "Incomplete parameters",
          "Disk " + missing + " required for add");
    }
    JsonNode sdNode = n.path("storage_domains").path("storage_domain");
    if (sdNode.isArray()) {
      sdNode = sdNode.size() > 0 ? sdNode.get(0) : null;
    }
    if (sdNode == null || sdNode.isMissingNode() || !sdNode.isObject()
        || (text(sdNode, "id") == null && text(sdNode, "name") == null)) {
      throw ApiException.fault(400, "Input validation failed.",
          "No matching signature found, make sure that mandatory attributes are provided.");
    }
    StorageDomainsResource.Sd sd;
    String sdId = text(sdNode, "id");
    if (sdId != null) {
      sd = StorageDomainsResource.sdById(sdId);
      if (sd == null) {
        throw ApiException.fault(404, "Operation Failed", "Entity not found: " + sdId);
      }
    } else {
      String sdName = text(sdNode, "name");
      sd = StorageDomainsResource.SDS.stream().filter(x -> x.name().equals(sdName)).findFirst().orElse(null);
      if (sd == null) {
        throw ApiException.fault(404, "Operation Failed", "Entity not found: " + sdName);
      }
    }
    Boolean sparseIn = bool(n, "sparse");
    boolean sparse = sparseIn == null || sparseIn;
    String backup = enumValue(n, "backup", "DiskBackup", List.of("incremental", "none"));
    if (backup == null) {
      backup = "none";
    }
    String contentType = enumValue(n, "content_type", "DiskContentType",
        List.of("backup_scratch", "data", "hosted_engine", "hosted_engine_configuration",
            "hosted_engine_sanlock", "iso", "memory_dump_volume", "memory_metadata_volume",
            "ovf_store"));
    if (contentType == null) {
      contentType = "data";
    }
    Long initial = number(n, "initial_size");
    if (size <= 0) {
      throw ApiException.failed(400, "Cannot add Virtual Disk. Disk size must be greater than zero.");
    }
    if (initial != null && initial < 0) {
      throw ApiException.failed(400, "Cannot add Virtual Disk. Initial size must be a positive number.");
    }
    boolean block = Sandbox.isBlock(sd.id());
    String cfg = null;
    if (format.equals("cow") && !sparse && !backup.equals("incremental")) {
      cfg = "COW Preallocated backup-None";
    } else if (format.equals("raw") && backup.equals("incremental")) {
      cfg = "RAW " + (sparse ? "Sparse" : "Preallocated") + " backup-Incremental";
    } else if (format.equals("raw") && sparse && block) {
      cfg = "RAW Sparse backup-None";
    }
    if (cfg != null) {
      throw ApiException.failed(409, "Cannot add Virtual Disk. Disk configuration (" + cfg
          + ") is incompatible with the storage domain type.");
    }
    if (block && size > 8192L * (1L << 30)) {
      throw ApiException.failed(400, "Cannot add Virtual Disk. Disk maximum size is 8192 GiB.");
    }
    String id = text(n, "id");
    if (id != null && !UUID_RE.matcher(id).matches()) {
      throw ApiException.fault(400, "Invalid value", "'" + id + "' is not a valid UUID.");
    }
    String imageId = text(n, "image_id");
    if (imageId != null && !UUID_RE.matcher(imageId).matches()) {
      throw ApiException.fault(400, "Invalid value", "'" + imageId + "' is not a valid UUID.");
    }
    String name = text(n, "name");
    if (name == null) {
      name = text(n, "alias");
    }
    long now = System.nanoTime();
    Disk d;
    synchronized (sb.lock) {
      if (id == null) {
        id = UUID.randomUUID().toString();
      } else {
        id = id.toLowerCase(Locale.ROOT);
        if (sb.disks.containsKey(id)) {
          throw ApiException.failed(409, "Cannot add Virtual Disk. Disk with the same ID already exists.");
        }
      }
      d = new Disk(sb.disksDir, id, imageId == null ? UUID.randomUUID().toString() : imageId.toLowerCase(Locale.ROOT),
          sd.id(), size, System.currentTimeMillis());
      d.name = name == null ? "disk-" + id.substring(0, 8) : name;
      d.description = text(n, "description");
      d.format = format;
      d.sparse = sparse;
      d.contentType = contentType;
      d.initialSize = initial;
      d.backup = backup;
      d.status = "locked";
      d.readyAtNanos = now + Math.max(1, sb.config.diskReadyDelay().toNanos());
      d.createFile();
      d.saveMeta();
      sb.disks.put(id, d);
    }
    if (wantsCreated(ex)) {
      try {
        Thread.sleep(sb.config.diskReadyDelay().toMillis() + 1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      synchronized (sb.lock) {
        extra.put("location", sb.engineUrl() + API + "/disks/" + id);
        return new Reply(201, renderDisk(d, System.nanoTime()));
      }
    }
    synchronized (sb.lock) {
      ObjectNode o = renderDisk(d, now);
      o.put("creation_status", "pending");
      ((ArrayNode) o.get("link")).addObject()
          .put("href", API + "/disks/" + id + "/creation_status/" + UUID.randomUUID())
          .put("rel", "creation_status");
      return new Reply(202, o);
    }
  }
}
