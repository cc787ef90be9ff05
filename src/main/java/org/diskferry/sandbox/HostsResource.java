package org.diskferry.sandbox;

import static org.diskferry.sandbox.ApiSupport.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** {@code /hosts}: the one host, whose imageio daemon serves the transfers. */
final class HostsResource {
  private static ObjectNode renderHost() {
    ObjectNode o = obj();
    o.put("address", "127.0.0.1");
    o.put("name", "host1");
    o.put("status", "up");
    o.put("type", "rhel");
    o.set("cluster", ref("clusters", Sandbox.CLUSTER_ID));
    String href = API + "/hosts/" + Sandbox.HOST_ID;
    links(o, href, "nics", "permissions", "statistics", "storage");
    o.put("href", href);
    o.put("id", Sandbox.HOST_ID);
    return o;
  }

  JsonNode handle(Exchange ex, String[] seg) {
    if (seg.length == 1) {
      Map<String, String> f = new LinkedHashMap<>();
      f.put("name", "host1");
      f.put("id", Sandbox.HOST_ID);
      f.put("hw_id", Sandbox.HOST_ID);
      f.put("address", "127.0.0.1");
      f.put("status", "up");
      f.put("datacenter", "dc1");
      f.put("cluster", "Default");
      List<ObjectNode> items = new ArrayList<>();
      if (matches(ex, f)) {
        items.add(renderHost());
      }
      return collection("host", limit(ex, items));
    }
    if (seg.length == 2 && seg[1].equals(Sandbox.HOST_ID)) {
      return renderHost();
    }
    throw ApiException.notFound();
  }
}
