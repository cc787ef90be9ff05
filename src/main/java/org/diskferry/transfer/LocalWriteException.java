package org.diskferry.transfer;

import java.io.IOException;
import java.nio.file.FileSystemException;
import java.nio.file.Path;
import org.diskferry.error.DiskferryException;

/**
 * Writing a download's local file failed: a fault of this machine (a full, read-only or failing
 * disk, a quota, a permission), not of the network. Sending the request again cannot help, so it
 * is deliberately not an {@link IOException}: the retry loops that retry every I/O failure of the
 * data plane let it through, and the transfer fails at once (exit 1) naming the file.
 */
public final class LocalWriteException extends DiskferryException {
  private static final long serialVersionUID = 1L;

  private final transient Path file;

  public LocalWriteException(Path file, IOException cause) {
    this(file, cause, "");
  }

  /** The same, with {@code more} (what was done about it, what to do) after the reason. */
  public LocalWriteException(Path file, IOException cause, String more) {
    super(Kind.FAILED, "cannot write " + (file == null ? "the local file" : file) + ": "
        + reason(cause) + more, cause);
    this.file = file;
  }

  /** The file that could not be written, or null when unknown. */
  public Path file() {
    return file;
  }

  /**
   * What the system said, e.g. "No space left on device" (ENOSPC), "Read-only file system",
   * "Input/output error", "Disk quota exceeded", "Permission denied".
   */
  public static String reason(IOException e) {
    if (e instanceof FileSystemException f && f.getReason() != null) {
      return f.getReason();
    }
    String m = e.getMessage();
    return m == null || m.isBlank() ? e.getClass().getSimpleName() : m;
  }

  /** True when the disk this file is on is full (ENOSPC or a quota): freeing space helps. */
  public boolean diskFull() {
    String m = reason((IOException) getCause());
    return m.contains("No space left on device") || m.contains("quota exceeded")
        || m.contains("Quota exceeded");
  }
}
