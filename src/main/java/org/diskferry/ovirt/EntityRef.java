package org.diskferry.ovirt;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/** A reference to another engine entity, e.g. {@code "host": {"id": "...", "href": "..."}}. */
@JsonIgnoreProperties(ignoreUnknown = true)
record EntityRef(@JsonProperty("id") String id) {

  static String idOf(EntityRef ref) {
    return ref == null ? null : ref.id();
  }

  /** {@code "storage_domains": {"storage_domain": [{"id": ...}]}}. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  record StorageDomains(@JsonProperty("storage_domain") List<EntityRef> items) {}

  /** {@code "storage": {"type": "nfs"}} of a storage domain. */
  @JsonIgnoreProperties(ignoreUnknown = true)
  record Storage(@JsonProperty("type") String type) {}
}
