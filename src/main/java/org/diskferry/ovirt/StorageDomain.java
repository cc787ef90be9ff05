package org.diskferry.ovirt;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Set;

/**
 * An engine storage domain.
 *
 * @param type {@code data}, {@code iso}, {@code export}, ...
 * @param storageType the backing storage, e.g. {@code nfs}, {@code iscsi}, {@code fcp}
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record StorageDomain(String id, String name, String type, String storageType) {

  private static final Set<String> BLOCK = Set.of("iscsi", "fcp");

  @JsonCreator
  static StorageDomain fromJson(
      @JsonProperty("id") String id,
      @JsonProperty("name") String name,
      @JsonProperty("type") String type,
      @JsonProperty("storage") EntityRef.Storage storage) {
    return new StorageDomain(id, name, type, storage == null ? null : storage.type());
  }

  /** True for block storage (iSCSI, FC), where raw disks cannot be sparse. */
  public boolean isBlock() {
    return storageType != null && BLOCK.contains(storageType);
  }
}
