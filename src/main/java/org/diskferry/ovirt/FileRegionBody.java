package org.diskferry.ovirt;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import okhttp3.MediaType;
import okhttp3.RequestBody;
import okio.BufferedSink;

/**
 * A PUT body that streams a region of a file with positional reads (the channel is shared between
 * workers) through the caller's buffer. It has an exact length, so it is never sent chunked, and
 * it can be written again, so OkHttp may resend it on a fresh connection when a pooled one turns
 * out to have been closed by the server.
 */
final class FileRegionBody extends RequestBody {

  static final MediaType OCTET_STREAM = MediaType.get("application/octet-stream");

  private final FileChannel src;
  private final long srcOffset;
  private final long length;
  private final ByteBuffer buffer;

  FileRegionBody(FileChannel src, long srcOffset, long length, ByteBuffer buffer) {
    if (buffer.capacity() == 0) {
      throw new IllegalArgumentException("buffer has no capacity");
    }
    this.src = src;
    this.srcOffset = srcOffset;
    this.length = length;
    this.buffer = buffer;
  }

  @Override
  public MediaType contentType() {
    return OCTET_STREAM;
  }

  @Override
  public long contentLength() {
    return length;
  }

  @Override
  public boolean isOneShot() {
    return false;
  }

  @Override
  public void writeTo(BufferedSink sink) throws IOException {
    long pos = srcOffset;
    long remaining = length;
    while (remaining > 0) {
      buffer.clear();
      if (remaining < buffer.capacity()) {
        buffer.limit((int) remaining);
      }
      int n = src.read(buffer, pos);
      if (n < 0) {
        throw new EOFException(
            "the source file ended at offset " + pos + ", " + remaining + " bytes short of the range");
      }
      buffer.flip();
      ByteBufferBody.write(sink, buffer);
      pos += n;
      remaining -= n;
    }
  }
}
