package org.diskferry.ovirt;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import org.diskferry.http.RedactingLogger;

/**
 * An engine image transfer. The URLs carry the imageio ticket, a secret: {@link #toString()}
 * redacts them, and they must never be logged or put into messages.
 *
 * @param direction {@code upload} or {@code download}
 * @param transferUrl the imageio daemon on the host, or null when no ticket exists
 * @param proxyUrl the imageio proxy on the engine, or null when no ticket exists
 * @param diskId from {@code disk.id}, else {@code image.id} (the engine renders only the latter)
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ImageTransfer(
    String id,
    TransferPhase phase,
    String direction,
    String transferUrl,
    String proxyUrl,
    Long transferred,
    Boolean active,
    String format,
    Integer inactivityTimeout,
    String timeoutPolicy,
    String hostId,
    String diskId) {

  public ImageTransfer {
    phase = phase == null ? TransferPhase.UNKNOWN : phase;
  }

  @JsonCreator
  static ImageTransfer fromJson(
      @JsonProperty("id") String id,
      @JsonProperty("phase") String phase,
      @JsonProperty("direction") String direction,
      @JsonProperty("transfer_url") String transferUrl,
      @JsonProperty("proxy_url") String proxyUrl,
      @JsonProperty("transferred") Long transferred,
      @JsonProperty("active") Boolean active,
      @JsonProperty("format") String format,
      @JsonProperty("inactivity_timeout") Integer inactivityTimeout,
      @JsonProperty("timeout_policy") String timeoutPolicy,
      @JsonProperty("host") EntityRef host,
      @JsonProperty("disk") EntityRef disk,
      @JsonProperty("image") EntityRef image) {
    String diskId = EntityRef.idOf(disk);
    return new ImageTransfer(
        id,
        TransferPhase.parse(phase),
        direction,
        transferUrl,
        proxyUrl,
        transferred,
        active,
        format,
        inactivityTimeout,
        timeoutPolicy,
        EntityRef.idOf(host),
        diskId != null ? diskId : EntityRef.idOf(image));
  }

  public boolean isUpload() {
    return !"download".equals(direction);
  }

  @Override
  public String toString() {
    return "ImageTransfer[id=" + id + ", phase=" + phase.wire() + ", direction=" + direction
        + ", transferUrl=" + redact(transferUrl) + ", proxyUrl=" + redact(proxyUrl)
        + ", transferred=" + transferred + ", active=" + active + ", format=" + format
        + ", inactivityTimeout=" + inactivityTimeout + ", timeoutPolicy=" + timeoutPolicy
        + ", hostId=" + hostId + ", diskId=" + diskId + "]";
  }

  private static String redact(String url) {
    return url == null ? null : RedactingLogger.redact(url);
  }
}
