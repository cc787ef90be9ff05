package org.diskferry.ovirt;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.util.List;
import java.util.Optional;
import okhttp3.Call;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import okio.BufferedSource;
import org.diskferry.error.DiskferryException;
import org.diskferry.transfer.SessionLostException;
import org.diskferry.transfer.UncachedFile;
import org.diskferry.http.Json;

/**
 * The ovirt-imageio data plane of one image transfer ({@code /images/<ticket>}): ranged PUT and
 * GET, PATCH zero and flush, extents and checksum. Thread-safe: workers share one instance and
 * OkHttp's connection pool gives each its own keep-alive connection.
 *
 * <p>The first request (or {@link #options()}) probes the server with OPTIONS; when the host's
 * {@code transfer_url} cannot be reached and a {@code proxy_url} exists, every later request
 * goes to the proxy. The ticket is a secret: no message of this class contains it or the URL.
 */
public final class ImageioClient implements AutoCloseable {

  /** The largest zero request, as the reference client sends. */
  public static final long MAX_ZERO_REQUEST = 128L << 20;

  private static final MediaType JSON = MediaType.get("application/json");
  private static final String WHERE = "/images/<ticket>";

  private final OkHttpClient http;
  private final HttpUrl transferUrl;
  private final HttpUrl proxyUrl;
  private final Object probeLock = new Object();
  private volatile HttpUrl url;
  private volatile ImageioOptions options;
  /** GETs in flight, for {@link #abortReads}. */
  private final java.util.Set<Call> reads = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * @param transferUrl the imageio daemon on the host, or null
   * @param proxyUrl the imageio proxy on the engine, or null
   * @param useProxy talk to the proxy only
   */
  public ImageioClient(OkHttpClient http, String transferUrl, String proxyUrl, boolean useProxy) {
    this.http = http;
    this.transferUrl = parse(transferUrl, "transfer_url");
    this.proxyUrl = parse(proxyUrl, "proxy_url");
    if (this.transferUrl == null && this.proxyUrl == null) {
      throw DiskferryException.failed(
          "the image transfer has no transfer_url or proxy_url (is it still transferring?)");
    }
    if (useProxy && this.proxyUrl == null) {
      throw DiskferryException.failed(
          "the proxy was requested but the engine reported no proxy_url for the transfer");
    }
    this.url = useProxy || this.transferUrl == null ? this.proxyUrl : this.transferUrl;
  }

  private static HttpUrl parse(String s, String what) {
    if (s == null || s.isBlank()) {
      return null;
    }
    HttpUrl u = HttpUrl.parse(s.trim());
    if (u == null) {
      throw DiskferryException.failed("the engine reported an invalid " + what);
    }
    return u;
  }

  /** True when requests go to the imageio proxy on the engine rather than to the host. */
  public boolean usingProxy() {
    return url == proxyUrl;
  }

  /**
   * {@code OPTIONS /images/<ticket>}, cached. An old server answering 405 or 204 gets no
   * features and one reader and one writer.
   */
  public ImageioOptions options() throws IOException {
    ImageioOptions o = options;
    if (o != null) {
      return o;
    }
    synchronized (probeLock) {
      if (options != null) {
        return options;
      }
      HttpUrl first = url;
      try {
        options = probe(first);
      } catch (IOException e) {
        if (first != transferUrl || proxyUrl == null || e instanceof ImageioException) {
          throw sanitize(e, first);
        }
        // The host is unreachable from here (or its certificate does not verify): use the proxy.
        url = proxyUrl;
        options = probe(proxyUrl);
      }
      return options;
    }
  }

  /** Raw OPTIONS: connection failures stay unmapped so that {@link #options()} can fall back. */
  private ImageioOptions probe(HttpUrl target) throws IOException {
    Request req = new Request.Builder().url(target).method("OPTIONS", null).build();
    try (Response r = http.newCall(req).execute()) {
      if (r.code() == 405 || r.code() == 204) {
        return ImageioOptions.LEGACY;
      }
      if (r.code() != 200) {
        throw failure(r, "OPTIONS", "", -1, -1);
      }
      String body = r.body().string();
      if (body.isBlank()) {
        return ImageioOptions.LEGACY;
      }
      try {
        return Json.mapper().readValue(body, ImageioOptions.class);
      } catch (JsonProcessingException e) {
        throw new IOException("OPTIONS " + WHERE + ": the answer is not valid JSON");
      }
    } catch (IOException e) {
      if (EngineErrors.isTlsTrust(e) && (target != transferUrl || proxyUrl == null)) {
        throw untrusted(target, e);
      }
      throw e;
    }
  }

  /**
   * A cheap OPTIONS that counts as data-plane activity on the ticket, for heartbeats during long
   * pauses between ranges.
   */
  public void keepAlive() throws IOException {
    Request req = new Request.Builder().url(target()).method("OPTIONS", null).build();
    try (Response r = send(req)) {
      if (r.code() != 200 && r.code() != 204 && r.code() != 405) {
        throw failure(r, "OPTIONS", "", -1, -1);
      }
    }
  }

  /**
   * {@code PUT ?flush=n} of {@code length} bytes read from {@code src} at {@code srcOffset}, to
   * {@code offset} in the image. The channel is only read with positional reads, so workers may
   * share it; {@code buffer} belongs to the calling worker.
   */
  public void write(long offset, FileChannel src, long srcOffset, long length, ByteBuffer buffer)
      throws IOException {
    checkRange(offset, length);
    if (length == 0) {
      return;
    }
    put(offset, length, new FileRegionBody(src, srcOffset, length, buffer));
  }

  /**
   * {@code PUT ?flush=n} of the bytes between {@code data}'s position and limit, to {@code offset}
   * in the image. The buffer's position is not changed.
   */
  public void write(long offset, ByteBuffer data) throws IOException {
    checkRange(offset, data.remaining());
    if (!data.hasRemaining()) {
      return;
    }
    put(offset, data.remaining(), new ByteBufferBody(data));
  }

  /** {@code PUT ?flush=n} of a small byte array at {@code offset}. */
  public void write(long offset, byte[] data) throws IOException {
    checkRange(offset, data.length);
    if (data.length == 0) {
      return;
    }
    put(offset, data.length, RequestBody.create(data, FileRegionBody.OCTET_STREAM));
  }

  private void put(long offset, long length, RequestBody body) throws IOException {
    HttpUrl u = target().newBuilder().addQueryParameter("flush", "n").build();
    Request req =
        new Request.Builder()
            .url(u)
            .header("Content-Range", "bytes " + offset + "-" + (offset + length - 1) + "/*")
            .put(body)
            .build();
    try (Response r = send(req)) {
      if (!r.isSuccessful()) {
        throw failure(r, "PUT", "", offset, length);
      }
    }
  }

  /**
   * {@code PATCH {"op":"zero"}} over {@code [offset, offset+length)}, in requests of at most
   * {@link #MAX_ZERO_REQUEST} bytes, without flushing.
   */
  public void zero(long offset, long length) throws IOException {
    checkRange(offset, length);
    long pos = offset;
    long end = offset + length;
    while (pos < end) {
      long n = Math.min(MAX_ZERO_REQUEST, end - pos);
      ObjectNode op = Json.mapper().createObjectNode();
      op.put("op", "zero").put("offset", pos).put("size", n).put("flush", false);
      patch(op, pos, n);
      pos += n;
    }
  }

  /** {@code PATCH {"op":"flush"}}: makes everything written so far durable. */
  public void flush() throws IOException {
    ObjectNode op = Json.mapper().createObjectNode();
    op.put("op", "flush");
    patch(op, -1, -1);
  }

  private void patch(ObjectNode op, long offset, long length) throws IOException {
    Request req =
        new Request.Builder()
            .url(target())
            .patch(RequestBody.create(Json.mapper().writeValueAsBytes(op), JSON))
            .build();
    try (Response r = send(req)) {
      if (!r.isSuccessful()) {
        throw failure(r, "PATCH", "", offset, length);
      }
    }
  }

  /**
   * {@code GET} of {@code [offset, offset+length)} with a Range header, written to {@code dst} at
   * {@code dstOffset} with positional writes. Insists on 206, on a Content-Length equal to
   * {@code length}, and on receiving exactly that many bytes.
   */
  public void read(long offset, long length, UncachedFile dst, long dstOffset, ByteBuffer buffer)
      throws IOException {
    checkRange(offset, length);
    if (length == 0) {
      return;
    }
    String range = offset + "-" + (offset + length - 1);
    Request req = new Request.Builder().url(target()).header("Range", "bytes=" + range).build();
    Call call = http.newCall(req);
    reads.add(call);
    try (Response r = send(call)) {
      if (r.code() == 200) {
        throw new IOException(
            "GET " + WHERE + ": expected 206 Partial Content for bytes " + range
                + " but the server sent 200 (the whole image)");
      }
      if (r.code() != 206) {
        throw failure(r, "GET", "", offset, length);
      }
      String cl = r.header("Content-Length");
      if (cl == null || !cl.trim().equals(Long.toString(length))) {
        throw new IOException(
            "GET " + WHERE + ": expected Content-Length " + length + " for bytes " + range
                + " but the server sent " + (cl == null ? "none" : cl.trim()));
      }
      receive(r.body().source(), length, dst, dstOffset, buffer, range);
    } finally {
      reads.remove(call);
    }
  }

  /**
   * Cancels the reads in flight: each fails at once with an {@link IOException}, however much
   * of its range is left. Requests made later are not affected.
   */
  public void abortReads() {
    for (Call c : reads) {
      c.cancel();
    }
  }

  private void receive(
      BufferedSource in, long length, UncachedFile dst, long dstOffset, ByteBuffer buffer,
      String range) throws IOException {
    long received = 0;
    while (received < length) {
      buffer.clear();
      if (length - received < buffer.capacity()) {
        buffer.limit((int) (length - received));
      }
      // Fill the whole buffer before writing: okio hands out at most one 8 KiB segment per
      // read, and a positional write per segment costs a system call each.
      int n = 0;
      while (buffer.hasRemaining()) {
        int got;
        try {
          got = in.read(buffer);
        } catch (IOException e) {
          throw new IOException(
              "GET " + WHERE + ": received " + (received + n) + " of " + length
                  + " bytes of range " + range + ": " + redact(String.valueOf(e.getMessage())),
              e);
        }
        if (got < 0) {
          throw new IOException(
              "GET " + WHERE + ": received " + (received + n) + " of " + length
                  + " bytes of range " + range + " before the server closed the connection");
        }
        n += got;
      }
      buffer.flip();
      dst.write(buffer, dstOffset + received);
      received += n;
    }
  }

  /**
   * {@code GET /images/<ticket>/extents} (zero context), or empty when the server does not offer
   * extents (no "extents" feature, 404 or 405).
   */
  public Optional<List<Extent>> extents() throws IOException {
    if (!options().supports("extents")) {
      return Optional.empty();
    }
    return getJson("extents", target().newBuilder().addPathSegment("extents").build(),
        new TypeReference<List<Extent>>() {});
  }

  /**
   * {@code GET /images/<ticket>/extents?context=dirty}: what changed since the checkpoint of an
   * incremental backup; empty when the ticket has no dirty extents (404) or no extents at all.
   */
  public Optional<List<DirtyExtent>> dirtyExtents() throws IOException {
    if (!options().supports("extents")) {
      return Optional.empty();
    }
    return getJson(
        "extents",
        target().newBuilder().addPathSegment("extents").addQueryParameter("context", "dirty")
            .build(),
        new TypeReference<List<DirtyExtent>>() {});
  }

  /** {@code GET /images/<ticket>/checksum} with the server's defaults (blake2b, 4 MiB blocks). */
  public Optional<ImageChecksum> checksum() throws IOException {
    return checksum(null, null);
  }

  /**
   * {@code GET /images/<ticket>/checksum}, or empty when the server does not offer checksums.
   *
   * @param algorithm e.g. {@code sha256}; null for the server default (blake2b)
   * @param blockSize bytes, a multiple of 4096 up to 16 MiB; null for the default (4 MiB)
   */
  public Optional<ImageChecksum> checksum(String algorithm, Long blockSize) throws IOException {
    if (!options().supports("checksum")) {
      return Optional.empty();
    }
    HttpUrl.Builder u = target().newBuilder().addPathSegment("checksum");
    if (algorithm != null) {
      u.addQueryParameter("algorithm", algorithm);
    }
    if (blockSize != null) {
      u.addQueryParameter("block_size", Long.toString(blockSize));
    }
    return getJson("checksum", u.build(), new TypeReference<ImageChecksum>() {});
  }

  private <T> Optional<T> getJson(String suffix, HttpUrl u, TypeReference<T> type)
      throws IOException {
    Request req = new Request.Builder().url(u).header("Accept", "application/json").build();
    try (Response r = send(req)) {
      if (r.code() == 404 || r.code() == 405) {
        return Optional.empty();
      }
      if (r.code() != 200) {
        throw failure(r, "GET", "/" + suffix, -1, -1);
      }
      try {
        return Optional.ofNullable(Json.mapper().readValue(r.body().string(), type));
      } catch (JsonProcessingException e) {
        throw new IOException("GET " + WHERE + "/" + suffix + ": the answer is not the expected JSON");
      }
    }
  }

  /** Nothing to release: connections belong to the shared OkHttp client. */
  @Override
  public void close() {}

  // ---------------------------------------------------------------- plumbing

  private HttpUrl target() throws IOException {
    if (options == null) {
      options();
    }
    return url;
  }

  private Response send(Request req) throws IOException {
    return send(http.newCall(req));
  }

  private Response send(Call call) throws IOException {
    try {
      return call.execute();
    } catch (IOException e) {
      if (EngineErrors.isTlsTrust(e)) {
        throw untrusted(call.request().url(), e);
      }
      throw sanitize(e, call.request().url());
    }
  }

  private DiskferryException untrusted(HttpUrl target, Throwable cause) {
    String engine = proxyUrl == null ? null : "https://" + proxyUrl.host();
    return EngineErrors.untrusted(EngineErrors.hostPort(target), engine, cause);
  }

  /**
   * Maps an unexpected status. Returns (for the caller to throw) an {@link ImageioException} for
   * 5xx, which a caller may retry; throws a {@link DiskferryException} for the final ones.
   */
  private IOException failure(Response r, String method, String suffix, long offset, long length) {
    int code = r.code();
    String op = method + " " + WHERE + suffix;
    if (code == 403) {
      return new SessionLostException(
          "imageio refused the transfer ticket (expired or cancelled) at " + WHERE + suffix);
    }
    if (code == 416) {
      throw DiskferryException.failed(
          length > 0
              ? "range " + offset + "-" + (offset + length - 1) + " is beyond the end of the disk"
              : op + ": the requested range is beyond the end of the disk");
    }
    String text = serverLine(r);
    if (code == 400) {
      throw DiskferryException.failed(
          "imageio rejected " + op + (text.isEmpty() ? " (HTTP 400)" : ": " + text));
    }
    if (code >= 500) {
      return new ImageioException(
          code,
          "imageio error " + code + " on " + op + (text.isEmpty() ? "" : ": " + text),
          retryAfter(r));
    }
    throw DiskferryException.failed(
        "unexpected HTTP " + code + " from imageio on " + op + (text.isEmpty() ? "" : ": " + text));
  }

  /** The Retry-After header in seconds, if the server sent one. */
  private static java.time.Duration retryAfter(Response r) {
    String v = r.header("Retry-After");
    if (v == null) {
      return null;
    }
    try {
      return java.time.Duration.ofSeconds(Math.max(0, Long.parseLong(v.trim())));
    } catch (NumberFormatException e) {
      return null; // an HTTP date: rare enough to treat as "no hint"
    }
  }

  /** The first line of a text/plain error body, without the ticket. */
  private String serverLine(Response r) {
    String s;
    try {
      s = r.peekBody(1024).string();
    } catch (IOException e) {
      return "";
    }
    int nl = s.indexOf('\n');
    if (nl >= 0) {
      s = s.substring(0, nl);
    }
    return EngineErrors.oneLine(redact(s));
  }

  private IOException sanitize(IOException e, HttpUrl target) {
    String m = e.getMessage();
    if (m == null || redact(m).equals(m)) {
      return e;
    }
    return new IOException(e.getClass().getSimpleName() + " on " + WHERE + ": " + redact(m));
  }

  /** Removes the URLs and the ticket from a text. */
  String redact(String s) {
    String out = s;
    for (HttpUrl u : new HttpUrl[] {transferUrl, proxyUrl}) {
      if (u == null) {
        continue;
      }
      out = out.replace(u.toString(), WHERE);
      for (String seg : u.pathSegments()) {
        if (seg.length() >= 8 && !seg.equals("images")) {
          out = out.replace(seg, "<ticket>");
        }
      }
    }
    return out;
  }

  private static void checkRange(long offset, long length) {
    if (offset < 0 || length < 0 || offset + length < offset) {
      throw new IllegalArgumentException("bad range: offset " + offset + ", length " + length);
    }
  }
}
