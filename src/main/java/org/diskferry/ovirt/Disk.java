package org.diskferry.ovirt;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * An engine disk.
 *
 * @param status {@code ok}, {@code locked}, {@code illegal}, or null when the engine omits it
 * @param format {@code raw} or {@code cow}
 * @param contentType {@code data}, {@code iso}, ...
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Disk(
    String id,
    String name,
    String status,
    String format,
    Boolean sparse,
    long provisionedSize,
    long actualSize,
    String contentType,
    List<String> storageDomainIds) {

  public Disk {
    storageDomainIds = storageDomainIds == null ? List.of() : List.copyOf(storageDomainIds);
  }

  @JsonCreator
  static Disk fromJson(
      @JsonProperty("id") String id,
      @JsonProperty("name") String name,
      @JsonProperty("alias") String alias,
      @JsonProperty("status") String status,
      @JsonProperty("format") String format,
      @JsonProperty("sparse") Boolean sparse,
      @JsonProperty("provisioned_size") Long provisionedSize,
      @JsonProperty("actual_size") Long actualSize,
      @JsonProperty("content_type") String contentType,
      @JsonProperty("storage_domains") EntityRef.StorageDomains storageDomains) {
    List<String> sds = new ArrayList<>();
    if (storageDomains != null && storageDomains.items() != null) {
      for (EntityRef r : storageDomains.items()) {
        if (r != null && r.id() != null) {
          sds.add(r.id());
        }
      }
    }
    return new Disk(
        id,
        name != null ? name : alias,
        status == null ? null : status.toLowerCase(Locale.ROOT),
        format,
        sparse,
        provisionedSize == null ? 0 : provisionedSize,
        actualSize == null ? 0 : actualSize,
        contentType,
        sds);
  }

  public boolean isOk() {
    return "ok".equals(status);
  }

  public boolean isLocked() {
    return "locked".equals(status);
  }

  public boolean isIllegal() {
    return "illegal".equals(status);
  }
}
