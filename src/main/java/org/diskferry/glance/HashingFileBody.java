package org.diskferry.glance;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.List;
import java.util.function.LongConsumer;
import okhttp3.MediaType;
import okhttp3.RequestBody;
import okio.BufferedSink;

/**
 * A whole local file as an {@code application/octet-stream} body with an exact Content-Length,
 * hashed (sha512, Glance's default os_hash_algo) while it is sent.
 */
final class HashingFileBody extends RequestBody {

  private static final MediaType OCTETS = MediaType.get("application/octet-stream");
  private static final int CHUNK = 64 << 10;

  private final Path file;
  private final long size;
  private final int bufferSize;
  private final LongConsumer progress;
  private MessageDigest md5;
  private MessageDigest sha512;
  private String md5Hex;
  private String sha512Hex;
  private long sent;

  HashingFileBody(Path file, long size, int bufferSize, LongConsumer progress) {
    this.file = file;
    this.size = size;
    this.bufferSize = bufferSize;
    this.progress = progress;
  }

  @Override
  public MediaType contentType() {
    return OCTETS;
  }

  @Override
  public long contentLength() {
    return size;
  }

  /**
   * One-shot for OkHttp: it must not replay the upload on its own after a broken connection, when
   * Glance may still hold the image in {@code saving} (409); {@link GlanceUpload} waits for
   * {@code queued} and sends again.
   */
  @Override
  public boolean isOneShot() {
    return true;
  }

  @Override
  public void writeTo(BufferedSink sink) throws IOException {
    // sha512 only: it is what Glance reports as os_hash_value by default; md5 (or another
    // algorithm) is computed afterwards, and only when the cloud reports no sha512.
    md5 = null;
    try {
      sha512 = MessageDigest.getInstance("SHA-512");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
    sent = 0;
    md5Hex = null;
    sha512Hex = null;
    List<MessageDigest> digests = md5 == null ? List.of(sha512) : List.of(sha512, md5);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.READ);
        DigestPipeline hashing = new DigestPipeline(digests, 4, bufferSize)) {
      while (sent < size) {
        byte[] buf = hashing.next();
        ByteBuffer bb = ByteBuffer.wrap(buf, 0, (int) Math.min(buf.length, size - sent));
        int n = 0;
        while (bb.hasRemaining()) {
          int r = ch.read(bb, sent + n);
          if (r < 0) {
            throw new IOException(file + " became shorter while it was uploaded");
          }
          n += r;
        }
        hashing.submit(n);
        // A chunk at a time: okio copies what it is given to its heap segments before sending.
        for (int off = 0; off < n; off += CHUNK) {
          sink.write(buf, off, Math.min(CHUNK, n - off));
        }
        sent += n;
        progress.accept(sent);
      }
      sink.flush();
      List<String> hex = hashing.finish();
      sha512Hex = hex.get(0);
      md5Hex = md5 == null ? null : hex.get(1);
    }
  }

  /** True once every byte was sent and hashed. */
  boolean complete() {
    return sent == size && sha512Hex != null;
  }

  /** md5 hex of what was sent: null, since only sha512 is computed while sending. */
  String md5() {
    return md5Hex;
  }

  /** sha512 hex of what was sent. */
  String sha512() {
    return sha512Hex;
  }
}
