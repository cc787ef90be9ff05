package org.diskferry.transfer;

import java.nio.file.Path;
import java.time.Duration;

/**
 * Everything a command asks the orchestrator to do, immutable.
 *
 * @param direction upload or download
 * @param localPath the image to read (upload) or the file to write (download)
 * @param disk upload: an existing disk to fill ({@code --disk-id}), or null to create one;
 *     download: the disk id or name
 * @param storageDomain storage domain for a new disk
 * @param name name of a new disk
 * @param format disk format of a new disk ("raw" or "qcow2"), or the local file format of a
 *     download; null means the default
 * @param preallocated create the new disk fully allocated
 * @param description description of a new disk
 * @param workers parallel connections wanted (capped by the server)
 * @param bufferSize bytes per request buffer, one buffer per worker
 * @param host host id or name to run the transfer on, or null to let the engine choose
 * @param useProxy send data through the engine's imageio proxy
 * @param timeoutPolicy legacy, pause or cancel; null for the engine default
 * @param inactivityTimeout seconds; null for the engine default
 * @param force overwrite an existing local file (download)
 * @param heartbeat how often to call extend while the transfer runs
 * @param rangeSize the unit of work: bytes per range
 */
public record TransferRequest(
    Direction direction,
    Path localPath,
    String disk,
    String storageDomain,
    String name,
    String format,
    boolean preallocated,
    String description,
    int workers,
    int bufferSize,
    String host,
    boolean useProxy,
    String timeoutPolicy,
    Integer inactivityTimeout,
    boolean force,
    Duration heartbeat,
    long rangeSize) {

  /** Default bytes per request buffer. */
  public static final int DEFAULT_BUFFER_SIZE = 4 << 20;

  /** Default bytes per range (the unit a resume can skip). */
  public static final long DEFAULT_RANGE_SIZE = 64L << 20;

  /** Default heartbeat (extend) period. */
  public static final Duration DEFAULT_HEARTBEAT = Duration.ofSeconds(60);

  /** A request with defaults for everything but the direction, the file and the disk. */
  public static TransferRequest of(Direction direction, Path localPath, String disk) {
    return new TransferRequest(
        direction, localPath, disk, null, null, null, false, null, 4, DEFAULT_BUFFER_SIZE, null,
        false, null, null, false, DEFAULT_HEARTBEAT, DEFAULT_RANGE_SIZE);
  }

  /** A copy with another disk or file format. */
  public TransferRequest withFormat(String newFormat) {
    return new TransferRequest(
        direction, localPath, disk, storageDomain, name, newFormat, preallocated, description,
        workers, bufferSize, host, useProxy, timeoutPolicy, inactivityTimeout, force, heartbeat,
        rangeSize);
  }
}
