package org.diskferry.backup;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.List;

/**
 * {@code backup.json}: what one backup of a VM holds, written when the backup has ended. A backup
 * is the base of a later incremental only when its {@link #state} is {@code succeeded}.
 *
 * @param version of this file's format
 * @param mode {@code full} or {@code incremental} (as asked of the engine)
 * @param base the folder (in the same VM folder) of the backup an incremental one builds on
 * @param fromCheckpoint the engine checkpoint an incremental backup started from
 * @param toCheckpoint the checkpoint this backup created: the next incremental starts there
 * @param started ISO-8601 UTC
 * @param ended ISO-8601 UTC
 * @param state {@code succeeded}, or {@code failed} in a backup that did not complete
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Manifest(
    @JsonProperty("version") int version,
    @JsonProperty("engine") String engine,
    @JsonProperty("vm_id") String vmId,
    @JsonProperty("vm_name") String vmName,
    @JsonProperty("backup_id") String backupId,
    @JsonProperty("mode") String mode,
    @JsonProperty("base") String base,
    @JsonProperty("from_checkpoint") String fromCheckpoint,
    @JsonProperty("to_checkpoint") String toCheckpoint,
    @JsonProperty("started") String started,
    @JsonProperty("ended") String ended,
    @JsonProperty("state") String state,
    @JsonProperty("ovf") String ovf,
    @JsonProperty("disks") List<DiskEntry> disks) {

  public static final int VERSION = 1;

  public Manifest {
    disks = disks == null ? List.of() : List.copyOf(disks);
  }

  public boolean succeeded() {
    return "succeeded".equals(state);
  }

  /** The entry of this disk, or null. */
  public DiskEntry disk(String id) {
    return disks.stream().filter(d -> d.id().equals(id)).findFirst().orElse(null);
  }

  /**
   * One disk of a backup.
   *
   * @param format the disk's format on the engine ({@code cow} or {@code raw})
   * @param backupMode {@code full} or {@code incremental}, as the engine reported it
   * @param file the qcow2 file, relative to the backup's folder
   * @param backingFile the file it builds on, relative to the backup's folder ({@code
   *     ../FOLDER/FILE}), or null for a standalone file
   * @param bytes data bytes moved
   * @param fileSize bytes of the file, to notice a changed or cut file
   * @param checksum imageio's blkhash of the disk, when it was computed ({@code --verify})
   */
  @JsonIgnoreProperties(ignoreUnknown = true)
  public record DiskEntry(
      @JsonProperty("id") String id,
      @JsonProperty("alias") String alias,
      @JsonProperty("virtual_size") long virtualSize,
      @JsonProperty("format") String format,
      @JsonProperty("backup_mode") String backupMode,
      @JsonProperty("file") String file,
      @JsonProperty("backing_file") String backingFile,
      @JsonProperty("bytes") long bytes,
      @JsonProperty("file_size") long fileSize,
      @JsonProperty("checksum") String checksum) {}
}
