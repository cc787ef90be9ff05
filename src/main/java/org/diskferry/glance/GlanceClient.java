package org.diskferry.glance;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.diskferry.error.DiskferryException;
import org.diskferry.http.Json;

/**
 * The Glance Image API v2 calls diskferry makes. Every request carries the Keystone token (when the
 * cloud has one); a 401 gets a new token and one more try.
 */
public final class GlanceClient {

  private static final MediaType JSON = MediaType.get("application/json");
  private static final MediaType OCTETS = MediaType.get("application/octet-stream");

  private final OkHttpClient http;
  private final String endpoint;
  private final Supplier<KeystoneClient.Token> login;
  private volatile String token;
  /** Recent calls, so {@link #cancel()} also reaches a response body still being read. */
  private final java.util.Deque<okhttp3.Call> calls = new java.util.concurrent.LinkedBlockingDeque<>();

  /**
   * @param http the client
   * @param endpoint the Glance URL without {@code /v2}
   * @param login gets a fresh token, or null for a cloud without authentication
   * @param token the first token, or null
   */
  GlanceClient(
      OkHttpClient http, String endpoint, Supplier<KeystoneClient.Token> login, String token) {
    this.http = http;
    this.endpoint = endpoint.replaceAll("/+$", "").replaceAll("/v2(\\.\\d+)?$", "");
    this.login = login;
    this.token = token;
  }

  /**
   * Authenticates with the cloud's Keystone (unless its auth_type is none) and finds Glance.
   *
   * @throws DiskferryException AUTH, NOT_FOUND or BAD_INPUT as {@link KeystoneClient} does
   */
  public static GlanceClient connect(OkHttpClient http, CloudConfig cloud) {
    if (cloud.method().equals("none")) {
      if (cloud.imageEndpointOverride() == null) {
        throw DiskferryException.badInput(
            "cloud '" + cloud.name() + "' has auth_type none but no image_endpoint_override ("
                + cloud.source() + ")");
      }
      return new GlanceClient(http, cloud.imageEndpointOverride(), null, null);
    }
    KeystoneClient keystone = new KeystoneClient(http, cloud);
    KeystoneClient.Token t = keystone.authenticate();
    return new GlanceClient(http, t.imageEndpoint(), keystone::authenticate, t.value());
  }

  /** The Glance URL (no secrets in it). */
  public String endpoint() {
    return endpoint;
  }

  OkHttpClient http() {
    return http;
  }

  HttpUrl url(String path) {
    return HttpUrl.get(endpoint + path);
  }

  /**
   * Sends a request built fresh for each try: a 401 gets a new token and one more try. The caller
   * closes the response.
   */
  Response send(Supplier<Request.Builder> request) throws IOException {
    Response resp = execute(withToken(request.get()));
    if (resp.code() == 401 && login != null) {
      resp.close();
      token = login.get().value();
      resp = execute(withToken(request.get()));
    }
    return resp;
  }

  private Response execute(Request request) throws IOException {
    okhttp3.Call call = http.newCall(request);
    calls.addLast(call);
    while (calls.size() > 8) {
      calls.pollFirst();
    }
    try {
      return call.execute();
    } catch (javax.net.ssl.SSLException e) {
      if (org.diskferry.http.NetErrors.plainHttpSpokenToTls(e)) {
        throw DiskferryException.failed(
            "cannot talk to glance at " + endpoint + ": " + describe(e));
      }
      throw DiskferryException.auth(
          "TLS failure talking to glance at " + endpoint + ": " + e.getMessage()
              + " (set cacert in clouds.yaml, or --cacert FILE)");
    }
  }

  /** Cancels the requests in flight, including a download whose body is being read. */
  public void cancel() {
    for (okhttp3.Call c : calls) {
      c.cancel();
    }
  }

  /** Like {@link #send} for calls that need no body afterwards: fails unless 2xx. */
  private JsonNode call(String what, Supplier<Request.Builder> request) {
    try (Response resp = send(request)) {
      if (!resp.isSuccessful()) {
        throw GlanceErrors.of(resp, what);
      }
      String body = resp.body().string();
      return body.isBlank() ? Json.mapper().nullNode() : Json.mapper().readTree(body);
    } catch (IOException e) {
      throw DiskferryException.failed("glance: " + what + ": " + describe(e));
    }
  }

  static String describe(IOException e) {
    return org.diskferry.http.NetErrors.describe(e);
  }

  private Request withToken(Request.Builder b) {
    if (token != null) {
      b.header("X-Auth-Token", token);
    }
    Request r = b.build();
    return r.header("Accept") == null ? r.newBuilder().header("Accept", "application/json").build() : r;
  }

  /** The image, or empty when Glance does not know it (404). */
  public Optional<GlanceImage> find(String id) {
    try (Response resp = send(() -> new Request.Builder().url(url("/v2/images/" + id)))) {
      if (resp.code() == 404) {
        return Optional.empty();
      }
      if (!resp.isSuccessful()) {
        throw GlanceErrors.of(resp, "get image " + id);
      }
      return Optional.of(GlanceImage.of(Json.mapper().readTree(resp.body().string())));
    } catch (IOException e) {
      throw DiskferryException.failed("glance: get image " + id + ": " + describe(e));
    }
  }

  /** The image, or NOT_FOUND. */
  public GlanceImage get(String id) {
    return find(id).orElseThrow(() -> DiskferryException.notFound("image " + id + " not found"));
  }

  /** All images visible to the project (newest first), or those named {@code name}. */
  public List<GlanceImage> list(String name) {
    List<GlanceImage> out = new ArrayList<>();
    HttpUrl.Builder first = url("/v2/images").newBuilder()
        .addQueryParameter("limit", "200")
        .addQueryParameter("sort", "created_at:desc");
    if (name != null) {
      first.addQueryParameter("name", name);
    }
    HttpUrl next = first.build();
    for (int page = 0; next != null && page < 10_000; page++) {
      HttpUrl u = next;
      JsonNode n = call("list images", () -> new Request.Builder().url(u));
      for (JsonNode i : n.path("images")) {
        out.add(GlanceImage.of(i));
      }
      String link = n.path("next").asText(null);
      next = link == null ? null : HttpUrl.get(endpoint + link);
    }
    return out;
  }

  /** An image by id, or by name when exactly one image has it. */
  public GlanceImage resolve(String idOrName) {
    if (idOrName.matches("[0-9a-fA-F]{8}-([0-9a-fA-F]{4}-){3}[0-9a-fA-F]{12}")) {
      Optional<GlanceImage> byId = find(idOrName.toLowerCase(java.util.Locale.ROOT));
      if (byId.isPresent()) {
        return byId.get();
      }
    }
    List<GlanceImage> named = list(idOrName);
    if (named.isEmpty()) {
      throw DiskferryException.notFound("image '" + idOrName + "' not found");
    }
    if (named.size() > 1) {
      List<String> ids = new ArrayList<>();
      for (GlanceImage i : named) {
        ids.add(i.id() + " (" + i.status() + ", " + i.createdAt() + ")");
      }
      throw DiskferryException.badInput(
          named.size() + " images are named '" + idOrName + "': " + String.join(", ", ids)
              + "; give the image id instead");
    }
    return named.get(0);
  }

  /** Creates an image record; the answer's import methods header is kept in the result. */
  public Created create(Map<String, Object> fields) {
    byte[] body;
    try {
      body = Json.mapper().writeValueAsBytes(fields);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    try (Response resp = send(() -> new Request.Builder().url(url("/v2/images"))
        .post(RequestBody.create(body, JSON)))) {
      if (!resp.isSuccessful()) {
        throw GlanceErrors.of(resp, "create image");
      }
      String methods = resp.header("OpenStack-image-import-methods");
      GlanceImage image = GlanceImage.of(Json.mapper().readTree(resp.body().string()));
      return new Created(image, methods == null ? List.of() : List.of(methods.split("\\s*,\\s*")));
    } catch (IOException e) {
      throw DiskferryException.failed("glance: create image: " + describe(e));
    }
  }

  /** A new image and the import methods Glance offers for it. */
  public record Created(GlanceImage image, List<String> importMethods) {}

  /** The import methods the cloud enables ({@code GET /v2/info/import}); empty if none. */
  public List<String> importMethods() {
    try (Response resp = send(() -> new Request.Builder().url(url("/v2/info/import")))) {
      if (!resp.isSuccessful()) {
        return List.of();
      }
      List<String> out = new ArrayList<>();
      Json.mapper().readTree(resp.body().string()).path("import-methods").path("value")
          .forEach(v -> out.add(v.asText()));
      return out;
    } catch (IOException e) {
      throw DiskferryException.failed("glance: import methods: " + describe(e));
    }
  }

  /**
   * Sends image data to {@code /file} (direct upload) or {@code /stage} (import). The body is
   * made fresh for each try (a 401 re-authenticates and sends again).
   *
   * @throws DiskferryException with the kind of Glance's answer
   * @throws IOException when the connection fails before an answer
   */
  public void put(String id, boolean stage, Supplier<RequestBody> body) throws IOException {
    String path = "/v2/images/" + id + (stage ? "/stage" : "/file");
    try (Response resp = send(() -> new Request.Builder().url(url(path))
        .header("Content-Type", OCTETS.toString()).put(body.get()))) {
      if (!resp.isSuccessful()) {
        throw GlanceErrors.of(resp, (stage ? "stage data of image " : "upload to image ") + id);
      }
    }
  }

  /** Starts an interoperable import of staged data. */
  public void startImport(String id, String method) {
    Map<String, Object> body = Map.of("method", Map.of("name", method));
    byte[] bytes;
    try {
      bytes = Json.mapper().writeValueAsBytes(body);
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    call("import image " + id, () -> new Request.Builder()
        .url(url("/v2/images/" + id + "/import")).post(RequestBody.create(bytes, JSON)));
  }

  /** Deletes an image; true if it existed. */
  public boolean delete(String id) {
    try (Response resp = send(() -> new Request.Builder().url(url("/v2/images/" + id)).delete())) {
      if (resp.code() == 404) {
        return false;
      }
      if (!resp.isSuccessful()) {
        throw GlanceErrors.of(resp, "delete image " + id);
      }
      return true;
    } catch (IOException e) {
      throw DiskferryException.failed("glance: delete image " + id + ": " + describe(e));
    }
  }

  /** Opens the image data from byte {@code from} (a Range request when from > 0). */
  public Response openData(String id, long from) throws IOException {
    return send(() -> {
      Request.Builder b = new Request.Builder().url(url("/v2/images/" + id + "/file"))
          .header("Accept", "application/octet-stream, application/json");
      if (from > 0) {
        b.header("Range", "bytes=" + from + "-");
      }
      return b;
    });
  }
}
