package org.diskferry.transfer;

import com.fasterxml.jackson.annotation.JsonIgnore;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * What a later {@code diskferry resume} needs to finish a transfer: where it goes, which local
 * file (with the size and modification time it had), and which byte ranges are already done and
 * flushed. Holds no secrets. Saved as JSON in the state directory by {@link JournalStore}.
 *
 * @param version format version
 * @param transferId the platform's transfer id (also the file name)
 * @param diskId the disk
 * @param direction upload or download
 * @param endpoint the engine URL the transfer belongs to
 * @param localPath the source (upload) or the target file (download)
 * @param localSize upload: the source's size when the transfer began
 * @param localModified upload: the source's modification time (ms) when the transfer began
 * @param size the disk's size in bytes
 * @param createdDisk true when diskferry created the disk for this upload
 * @param readsAsZeros true when the target disk started out reading as zeros
 * @param done byte ranges finished and flushed, as sorted, merged [start, end) pairs
 * @param updated when this journal was last written (ms since the epoch)
 * @param format download: the local file's format, {@code raw} or {@code qcow2}; null means raw
 */
public record Journal(
    @JsonProperty("version") int version,
    @JsonProperty("transfer_id") String transferId,
    @JsonProperty("disk_id") String diskId,
    @JsonProperty("direction") Direction direction,
    @JsonProperty("endpoint") String endpoint,
    @JsonProperty("local_path") String localPath,
    @JsonProperty("local_size") long localSize,
    @JsonProperty("local_modified") long localModified,
    @JsonProperty("size") long size,
    @JsonProperty("created_disk") boolean createdDisk,
    @JsonProperty("reads_as_zeros") boolean readsAsZeros,
    @JsonProperty("done") List<long[]> done,
    @JsonProperty("updated") long updated,
    @JsonProperty("format") String format) {

  public static final int VERSION = 1;

  /** Prefix of the id of a journal whose upload created its disk but no transfer yet. */
  public static final String PENDING_PREFIX = "disk-";

  /** The id under which an upload is journaled between creating its disk and its transfer. */
  public static String pendingId(String diskId) {
    return PENDING_PREFIX + diskId;
  }

  /**
   * True for a journal of an upload that created its disk but was stopped before the platform
   * had a transfer for it (its id is {@link #pendingId}).
   */
  public boolean pending() {
    return transferId.startsWith(PENDING_PREFIX);
  }

  public Journal {
    done = done == null ? List.of() : List.copyOf(done);
  }

  /** A journal of a raw download or of an upload. */
  public Journal(
      int version, String transferId, String diskId, Direction direction, String endpoint,
      String localPath, long localSize, long localModified, long size, boolean createdDisk,
      boolean readsAsZeros, List<long[]> done, long updated) {
    this(
        version, transferId, diskId, direction, endpoint, localPath, localSize, localModified,
        size, createdDisk, readsAsZeros, done, updated, null);
  }

  /** A copy recording the format of a download's local file. */
  public Journal withFormat(String localFormat) {
    return new Journal(
        version, transferId, diskId, direction, endpoint, localPath, localSize, localModified,
        size, createdDisk, readsAsZeros, done, updated, localFormat);
  }

  /** True when a download writes a qcow2 file. */
  public boolean qcow2() {
    return "qcow2".equals(format);
  }

  /** Bytes done so far. */
  public long bytesDone() {
    long n = 0;
    for (long[] r : done) {
      n += r[1] - r[0];
    }
    return n;
  }

  /** A download's partial file: the target's name plus {@code .part}, beside it. */
  @JsonIgnore
  public Path partFile() {
    return LocalFiles.partFile(Path.of(localPath));
  }

  /** A copy with {@code [start, end)} added to the done ranges (merged). */
  public Journal withDone(long start, long end, long now) {
    List<long[]> out = new ArrayList<>(done.size() + 1);
    long s = start;
    long e = end;
    boolean placed = false;
    for (long[] r : done) {
      if (r[1] < s) {
        out.add(r);
      } else if (r[0] > e) {
        if (!placed) {
          out.add(new long[] {s, e});
          placed = true;
        }
        out.add(r);
      } else {
        s = Math.min(s, r[0]);
        e = Math.max(e, r[1]);
      }
    }
    if (!placed) {
      out.add(new long[] {s, e});
    }
    return new Journal(
        version, transferId, diskId, direction, endpoint, localPath, localSize, localModified,
        size, createdDisk, readsAsZeros, out, now, format);
  }

  /** A copy pointing at another transfer (a new one opened on the same disk by a resume). */
  public Journal withTransferId(String id, long now) {
    return new Journal(
        version, id, diskId, direction, endpoint, localPath, localSize, localModified, size,
        createdDisk, readsAsZeros, done, now, format);
  }

  /** A copy with nothing done, for a transfer that must start over. */
  public Journal restarted(long now) {
    return new Journal(
        version, transferId, diskId, direction, endpoint, localPath, localSize, localModified,
        size, createdDisk, readsAsZeros, List.of(), now, format);
  }

  /** The parts of {@code range} not yet done, in order. */
  public List<Range> remaining(Range range) {
    List<Range> out = new ArrayList<>();
    long pos = range.start();
    for (long[] r : done) {
      if (r[1] <= pos) {
        continue;
      }
      if (r[0] >= range.end()) {
        break;
      }
      if (r[0] > pos) {
        out.add(new Range(pos, r[0] - pos, range.zero()));
      }
      pos = Math.max(pos, r[1]);
    }
    if (pos < range.end()) {
      out.add(new Range(pos, range.end() - pos, range.zero()));
    }
    return out;
  }
}
