package org.diskferry.transfer;

import java.nio.ByteBuffer;

/** Finds all-zero blocks quickly, so zeros are never sent as data. */
final class ZeroBlocks {
  private static final int CHUNK = 64 << 10;
  private static final ByteBuffer ZEROS = ByteBuffer.allocateDirect(CHUNK).asReadOnlyBuffer();

  private ZeroBlocks() {}

  /** True when every byte between position and limit is zero. Does not move the position. */
  static boolean isZero(ByteBuffer buf) {
    int pos = buf.position();
    int limit = buf.limit();
    for (int off = pos; off < limit; off += CHUNK) {
      int n = Math.min(CHUNK, limit - off);
      ByteBuffer slice = buf.duplicate().position(off).limit(off + n);
      // mismatch is vectorised by the JIT; this runs at memory speed.
      if (slice.mismatch(ZEROS.duplicate().limit(n)) != -1) {
        return false;
      }
    }
    return true;
  }
}
