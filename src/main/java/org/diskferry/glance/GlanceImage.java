package org.diskferry.glance;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;

/**
 * A Glance image as {@code GET /v2/images/{id}} describes it.
 *
 * @param id the image id
 * @param name its name (may be null)
 * @param status queued, saving, uploading, importing, active, killed, deleted, deactivated...
 * @param size bytes of data, or null before the upload
 * @param virtualSize the guest's size if Glance found it out, else null
 * @param diskFormat raw, qcow2, vmdk...
 * @param containerFormat bare, ovf...
 * @param visibility public, community, shared or private
 * @param checksum md5 hex of the data, or null
 * @param hashAlgo the multihash algorithm (sha512 by default), or null
 * @param hashValue its hex value, or null
 * @param createdAt creation time (ISO 8601)
 * @param properties the other keys, as text (user properties and the rest)
 */
public record GlanceImage(
    String id,
    String name,
    String status,
    Long size,
    Long virtualSize,
    String diskFormat,
    String containerFormat,
    String visibility,
    String checksum,
    String hashAlgo,
    String hashValue,
    String createdAt,
    Map<String, String> properties) {

  private static final Set<String> CORE =
      Set.of("id", "name", "status", "size", "virtual_size", "disk_format", "container_format",
          "visibility", "checksum", "os_hash_algo", "os_hash_value", "created_at");

  /** Maps the API's JSON object. */
  static GlanceImage of(JsonNode n) {
    Map<String, String> props = new LinkedHashMap<>();
    n.properties().forEach(e -> {
      if (!CORE.contains(e.getKey()) && !e.getValue().isNull()) {
        props.put(e.getKey(), e.getValue().isValueNode() ? e.getValue().asText()
            : e.getValue().toString());
      }
    });
    return new GlanceImage(
        text(n, "id"), text(n, "name"), text(n, "status"), number(n, "size"),
        number(n, "virtual_size"), text(n, "disk_format"), text(n, "container_format"),
        text(n, "visibility"), text(n, "checksum"), text(n, "os_hash_algo"),
        text(n, "os_hash_value"), text(n, "created_at"), props);
  }

  private static String text(JsonNode n, String key) {
    JsonNode v = n.get(key);
    return v == null || v.isNull() ? null : v.asText();
  }

  private static Long number(JsonNode n, String key) {
    JsonNode v = n.get(key);
    return v == null || v.isNull() ? null : v.asLong();
  }

  /** True while an upload or import may still be writing data. */
  public boolean inProgress() {
    return "queued".equals(status) || "saving".equals(status) || "uploading".equals(status)
        || "importing".equals(status);
  }
}
