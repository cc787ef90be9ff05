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
    ByteBuffer b = data.duplicate();
    while (b.hasRemaining()) {
      sink.write(b);
    }
  }
}
