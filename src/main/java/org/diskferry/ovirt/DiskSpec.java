package org.diskferry.ovirt;

/**
 * What {@link EngineClient#createDisk} asks the engine for.
 *
 * @param description nullable
 * @param format {@code raw} or {@code cow}
 * @param initialSize nullable; honoured by the engine only for sparse disks on block storage
 * @param contentType {@code data} or {@code iso}; nullable (engine default)
 * @param id nullable; a requested disk id (UUID)
 */
public record DiskSpec(
    String name,
    String description,
    String storageDomainName,
    String format,
    boolean sparse,
    long provisionedSize,
    Long initialSize,
    String contentType,
    String id) {

  /**
   * The engine refuses a preallocated cow disk unless it has incremental backup enabled, so such
   * a disk is created with {@code backup: incremental}.
   */
  public boolean needsIncrementalBackup() {
    return "cow".equalsIgnoreCase(format) && !sparse;
  }
}
