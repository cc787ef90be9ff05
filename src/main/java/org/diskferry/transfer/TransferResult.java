package org.diskferry.transfer;

/**
 * What a finished transfer reports.
 *
 * @param direction upload or download
 * @param transferId the platform's transfer id
 * @param diskId the disk moved
 * @param phase the final phase as the platform names it (e.g. finished_success)
 * @param size image size in bytes (virtual)
 * @param bytesSent bytes that really crossed the wire as data
 * @param seconds wall time of the whole command
 * @param workers connections used
 * @param retries data-plane requests that were tried again after a transient failure
 * @param checksum the verified blkhash (blake2b, 4 MiB blocks) with {@code --verify}, else null
 * @param bytesBefore bytes a journal said were done before this run (a resume), else 0
 * @param dataSeconds wall time of the data phase alone (moving the ranges), 0 when none ran
 */
public record TransferResult(
    Direction direction,
    String transferId,
    String diskId,
    String phase,
    long size,
    long bytesSent,
    double seconds,
    int workers,
    int retries,
    String checksum,
    long bytesBefore,
    double dataSeconds) {

  /** The bytes this run dealt with (sent, skipped as zeros, or fetched). */
  public long bytesThisRun() {
    return Math.max(0, size - bytesBefore);
  }
}
