package org.diskferry.transfer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.util.List;
import java.util.Optional;

/** The data plane of one transfer. Thread-safe: each worker uses it from its own thread. */
public interface DataChannel {

  /** Writes {@code data} (position to limit) at {@code offset} of the disk. */
  void write(long offset, ByteBuffer data) throws IOException;

  /** Makes {@code length} bytes at {@code offset} read as zeros. */
  void zero(long offset, long length) throws IOException;

  /** Flushes written data to stable storage on the server. */
  void flush() throws IOException;

  /** Reads {@code length} bytes at {@code offset} of the disk into {@code dst} at {@code dstOffset}. */
  void read(long offset, long length, UncachedFile dst, long dstOffset, ByteBuffer buffer)
      throws IOException;

  /** Which ranges of the disk hold data, if the server can tell. */
  Optional<List<Extent>> extents() throws IOException;

  /**
   * The server's checksum of the whole disk: imageio's blkhash (blake2b-256 over 4 MiB blocks,
   * then over the block digests), as hex; empty when the server cannot compute one.
   */
  Optional<String> checksum() throws IOException;

  /**
   * Aborts the reads in flight, at once (the transfer is being interrupted): they fail with an
   * {@link IOException} instead of finishing their range, however slow the link. Later requests
   * are not affected.
   */
  default void abortReads() {}

  /** A cheap request that counts as data-plane activity. */
  void keepAlive() throws IOException;

  /** A run of the disk that is either data or reads as zeros. */
  record Extent(long start, long length, boolean zero) {}
}
