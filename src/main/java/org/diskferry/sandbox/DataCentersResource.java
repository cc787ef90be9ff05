package org.diskferry.sandbox;

import static org.diskferry.sandbox.ApiSupport.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code /datacenters} and {@code /clusters}: one data center with one cluster. */
final class DataCentersResource {
  private final StorageDomainsResource storageDomains;

  DataCentersResource(StorageDomainsResource storageDomains) {
    this.storageDomains = storageDomains;
  }

  JsonNode handle(Exchange ex, String[] seg) {
    if (seg.length == 1) {
      Map<String, String> f = new LinkedHashMap<>();
      f.put("name", "dc1");
      f.put("id", Sandbox.DC_ID);
      f.put("status", "up");
      List<ObjectNode> items = new ArrayList<>();
      String search = ex.query("search");
      boolean storageOk = true;
      if (search != null) {
        Map<String, String> storage = parseSearch(search).stream()
            .filter(c -> c[0].equals("storage.name") || c[0].equals("storage"))
            .collect(LinkedHashMap::new, (m, c) -> m.put(c[0], c[1]), Map::putAll);
        for (String want : storage.values()) {
          storageOk &= StorageDomainsResource.SDS.stream().anyMatch(sd -> globMatch(want, sd.name(), caseSensitive(ex)));
        }
      }
      if (storageOk && matches(ex, f)) {
        items.add(renderDc());
      }
      return collection("data_center", limit(ex, items));
    }
    if (!seg[1].equals(Sandbox.DC_ID)) {
      throw ApiException.notFound();
    }
    if (seg.length == 2) {
      return renderDc();
    }
    if (seg[2].equals("storagedomains")) {
      if (seg.length == 3) {
        List<ObjectNode> items = new ArrayList<>();
        for (StorageDomainsResource.Sd sd : StorageDomainsResource.SDS) {
          items.add(storageDomains.renderSd(sd, true));
        }
        return collection("storage_domain", items);
      }
      StorageDomainsResource.Sd sd = StorageDomainsResource.sdById(seg[3]);
      if (sd == null || seg.length > 4) {
        throw ApiException.notFound();
      }
      return storageDomains.renderSd(sd, true);
    }
    if (seg[2].equals("clusters") && seg.length == 3) {
      return collection("cluster", List.of(renderCluster()));
    }
    throw ApiException.notFound();
  }

  private static ObjectNode renderDc() {
    ObjectNode o = obj();
    o.put("local", "false");
    o.put("name", "dc1");
    o.put("quota_mode", "disabled");
    o.put("status", "up");
    o.put("storage_format", "v5");
    ObjectNode v = o.putObject("version");
    v.put("major", "4");
    v.put("minor", "7");
    String href = API + "/datacenters/" + Sandbox.DC_ID;
    links(o, href, "clusters", "storagedomains", "networks", "permissions", "quotas");
    o.put("href", href);
    o.put("id", Sandbox.DC_ID);
    return o;
  }

  private static ObjectNode renderCluster() {
    ObjectNode o = obj();
    o.put("name", "Default");
    o.set("data_center", ref("datacenters", Sandbox.DC_ID));
    o.put("href", API + "/clusters/" + Sandbox.CLUSTER_ID);
    o.put("id", Sandbox.CLUSTER_ID);
    return o;
  }

  JsonNode clusters(String[] seg) {
    if (seg.length == 1) {
      return collection("cluster", List.of(renderCluster()));
    }
    if (seg.length == 2 && seg[1].equals(Sandbox.CLUSTER_ID)) {
      return renderCluster();
    }
    throw ApiException.notFound();
  }
}
