package org.diskferry.sandbox;

import static org.diskferry.sandbox.ApiSupport.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code /storagedomains}: the two storage domains (file and block). */
final class StorageDomainsResource {
  private final Sandbox sb;
  private final DisksResource disks;

  StorageDomainsResource(Sandbox sb, DisksResource disks) {
    this.sb = sb;
    this.disks = disks;
  }

  record Sd(String id, String name, String storageType, boolean master, String profileId) {}

  static final List<Sd> SDS = List.of(
      new Sd(Sandbox.SD_ID, Sandbox.SD_NAME, "nfs", true, Sandbox.DISK_PROFILE_ID),
      new Sd(Sandbox.SD_BLOCK_ID, Sandbox.SD_BLOCK_NAME, "iscsi", false, Sandbox.DISK_PROFILE_BLOCK_ID));

  static Sd sdById(String id) {
    return SDS.stream().filter(s -> s.id().equals(id)).findFirst().orElse(null);
  }

  ObjectNode renderSd(Sd sd, boolean withStatus) {
    long used;
    long available;
    synchronized (sb.lock) {
      used = sb.disks.values().stream().filter(d -> d.storageDomainId.equals(sd.id())).mapToLong(Disk::actualSize).sum();
    }
    try {
      available = Files.getFileStore(sb.disksDir).getUsableSpace();
    } catch (IOException e) {
      available = 0;
    }
    long committed;
    synchronized (sb.lock) {
      committed = sb.disks.values().stream().filter(d -> d.storageDomainId.equals(sd.id())).mapToLong(d -> d.provisionedSize).sum();
    }
    ObjectNode o = obj();
    o.put("available", s(available));
    o.put("backup", "false");
    o.put("block_size", "512");
    o.put("committed", s(committed));
    o.put("critical_space_action_blocker", "5");
    o.put("discard_after_delete", "false");
    o.put("external_status", "ok");
    o.put("master", s(sd.master()));
    o.put("name", sd.name());
    if (withStatus) {
      o.put("status", "active");
    }
    ObjectNode st = o.putObject("storage");
    st.put("type", sd.storageType());
    if (sd.storageType().equals("nfs")) {
      st.put("address", "127.0.0.1");
      st.put("path", "/sandbox/" + sd.name());
    }
    o.put("storage_format", "v5");
    o.put("supports_discard", "false");
    o.put("supports_discard_zeroes_data", "false");
    o.put("type", "data");
    o.put("used", s(used));
    o.put("warning_low_space_indicator", "10");
    o.put("wipe_after_delete", "false");
    o.putObject("data_centers").putArray("data_center").add(ref("datacenters", Sandbox.DC_ID));
    String href = API + "/storagedomains/" + sd.id();
    links(o, href, "diskprofiles", "disks", "permissions", "disksnapshots", "statistics");
    o.put("href", href);
    o.put("id", sd.id());
    return o;
  }

  private Map<String, String> sdFields(Sd sd) {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("name", sd.name());
    f.put("id", sd.id());
    f.put("type", "data");
    f.put("storage.type", sd.storageType());
    f.put("datacenter", "dc1");
    f.put("status", "active");
    return f;
  }

  JsonNode handle(Exchange ex, String[] seg) {
    if (seg.length == 1) {
      List<ObjectNode> items = new ArrayList<>();
      for (Sd sd : SDS) {
        if (matches(ex, sdFields(sd))) {
          items.add(renderSd(sd, false));
        }
      }
      return collection("storage_domain", limit(ex, items));
    }
    Sd sd = sdById(seg[1]);
    if (sd == null) {
      throw ApiException.notFound();
    }
    if (seg.length == 2) {
      return renderSd(sd, false);
    }
    if (seg.length == 3 && seg[2].equals("disks")) {
      return disks.list(ex, d -> d.storageDomainId.equals(sd.id()));
    }
    throw ApiException.notFound();
  }
}
