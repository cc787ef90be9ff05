package org.diskferry.transfer;

import java.io.IOException;
import java.util.List;

/**
 * A session of an incremental backup's disk that can say which blocks changed since the backup's
 * checkpoint (imageio's {@code extents?context=dirty}).
 */
public interface ChangedBlocks {

  /** Extents covering the disk, each dirty (changed) or clean, in order. */
  List<Change> changes() throws IOException;

  /**
   * @param dirty the guest wrote here since the checkpoint
   * @param zero the range reads as zeros now
   */
  record Change(long start, long length, boolean dirty, boolean zero) {
    public long end() {
      return start + length;
    }
  }
}
