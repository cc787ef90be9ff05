package org.diskferry.ovirt;

import java.io.IOException;
import java.nio.ByteBuffer;
import okhttp3.MediaType;
import okhttp3.RequestBody;
import okio.BufferedSink;

/**
 * A request body over the bytes between a buffer's position and limit, with an exact length.
 * Replayable: each write works on a duplicate, so OkHttp can resend it on a fresh connection.
 */
final class ByteBufferBody extends RequestBody {
  private final ByteBuffer data;

  ByteBufferBody(ByteBuffer data) {
    this.data = data;
  }

  @Override
  public MediaType contentType() {
    return FileRegionBody.OCTET_STREAM;
  }

  @Override
  public long contentLength() {
    return data.remaining();
  }

  @Override
  public boolean isOneShot() {
    return false;
  }

  @Override
  public void writeTo(BufferedSink sink) throws IOException {
    write(sink, data.duplicate());
  }

  /** Bytes handed to okio at a time: it copies them into its heap segments before sending. */
  private static final int CHUNK = 64 << 10;

  /**
   * Writes the buffer's remaining bytes a chunk at a time: okio copies what it is given to the
   * heap before it sends anything, so one call with a 64 MiB buffer held 64 MiB of heap per worker
   * (an OutOfMemoryError with 16 workers in the launcher's 128 MiB heap).
   */
  static void write(BufferedSink sink, ByteBuffer b) throws IOException {
    int end = b.limit();
    try {
      while (b.position() < end) {
        b.limit(Math.min(end, b.position() + CHUNK));
        while (b.hasRemaining()) {
          sink.write(b);
        }
      }
    } finally {
      b.limit(end);
    }
  }
}
