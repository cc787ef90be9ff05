package org.diskferry.ovirt;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import okhttp3.FormBody;
import okhttp3.HttpUrl;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.diskferry.error.DiskferryException;
import org.diskferry.http.Json;
import org.diskferry.transfer.RetryPolicy;

/**
 * The oVirt engine REST API v4 (JSON): SSO login, disks, storage domains, hosts and image
 * transfers. Thread-safe; one instance per engine session. A 401 from the API (expired session)
 * triggers one new login and one retry of the request.
 *
 * <p>A request that the engine may not have seen, or whose repetition changes nothing, is tried
 * again after a transient failure as the {@link RetryPolicy} allows, the way data-plane requests
 * are: every request after a refused connection or a 503 (the engine, or the proxy before it,
 * did not take the request); GETs, DELETEs and the transfer actions (extend, finalize, cancel,
 * pause, resume) also after any other 5xx answer or a dropped connection. A POST that creates a
 * disk or a transfer is not repeated once the engine may have acted on it: a second one could
 * create a second disk. A read that timed out is not repeated either: the engine had its whole
 * timeout to answer. The login is not tried again, so that a wrong URL fails at once.
 */
public final class EngineClient implements AutoCloseable {

  private static final MediaType JSON = MediaType.get("application/json");
  private static final MediaType FORM = MediaType.get("application/x-www-form-urlencoded");
  private static final byte[] EMPTY_ACTION = "{}".getBytes(java.nio.charset.StandardCharsets.UTF_8);
  private static final Pattern UUID =
      Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

  private final OkHttpClient http;
  private final String base;
  private final HttpUrl baseUrl;
  private final HttpUrl api;
  private final String username;
  private final char[] password;
  private final Object loginLock = new Object();
  private final AtomicBoolean closed = new AtomicBoolean();
  private volatile String token;
  private volatile RetryPolicy retry = RetryPolicy.DEFAULT;
  private volatile RetryListener retryListener = (what, attempt, cause) -> {};

  /** Told of each retry of an engine request (what, the attempt that failed, why). */
  @FunctionalInterface
  public interface RetryListener {
    void retry(String what, int attempt, Throwable cause);
  }

  private EngineClient(OkHttpClient http, String base, String username, char[] password) {
    this.http = http;
    this.base = base;
    this.baseUrl = HttpUrl.get(base);
    this.api = HttpUrl.get(base + "/ovirt-engine/api");
    this.username = username;
    this.password = password;
  }

  /**
   * Logs in with the SSO password grant.
   *
   * @param engineUrl {@code https://host[:port]}, optionally ending in {@code /},
   *     {@code /ovirt-engine} or {@code /ovirt-engine/api}
   * @param username {@code user@profile}, e.g. {@code admin@internal}
   * @param password copied; the copy lives as long as the client and {@link #close()} zeroes it
   * @throws DiskferryException AUTH when the engine refuses the credentials or its certificate is
   *     not trusted, FAILED when it cannot be reached, BAD_INPUT for a malformed URL
   */
  public static EngineClient login(
      OkHttpClient http, String engineUrl, String username, char[] password) {
    Objects.requireNonNull(http, "http");
    if (username == null || username.isBlank()) {
      throw DiskferryException.badInput("no engine user name given (e.g. admin@internal)");
    }
    if (password == null) {
      throw DiskferryException.badInput("no password given for " + username);
    }
    EngineClient c =
        new EngineClient(http, normaliseUrl(engineUrl), username, password.clone());
    try {
      c.token = c.obtainToken();
    } catch (RuntimeException e) {
      Arrays.fill(c.password, '\0');
      throw e;
    }
    return c;
  }

  /**
   * The engine's base URL: scheme, host, port (and any prefix before {@code /ovirt-engine}),
   * without a trailing slash. Accepts a URL with no scheme (https is assumed).
   */
  public static String normaliseUrl(String engineUrl) {
    if (engineUrl == null || engineUrl.isBlank()) {
      throw DiskferryException.badInput("no engine URL given (e.g. https://engine.example.com)");
    }
    String u = engineUrl.trim();
    if (!u.contains("://")) {
      u = "https://" + u;
    }
    HttpUrl parsed = HttpUrl.parse(u);
    if (parsed == null) {
      throw DiskferryException.badInput(
          "invalid engine URL" + (u.contains("@") ? "" : " '" + engineUrl.trim() + "'")
              + "; expected https://host[:port]");
    }
    String path = parsed.encodedPath();
    path = stripSlashes(path);
    for (String suffix : new String[] {"/v4", "/api", "/ovirt-engine"}) {
      if (path.endsWith(suffix)) {
        path = stripSlashes(path.substring(0, path.length() - suffix.length()));
      }
    }
    HttpUrl clean =
        parsed.newBuilder().username("").password("").query(null).fragment(null)
            .encodedPath(path.isEmpty() ? "/" : path).build();
    String s = clean.toString();
    return s.endsWith("/") ? s.substring(0, s.length() - 1) : s;
  }

  private static String stripSlashes(String path) {
    String p = path;
    while (p.endsWith("/")) {
      p = p.substring(0, p.length() - 1);
    }
    return p;
  }

  /** The normalised engine URL, e.g. {@code https://engine.example.com:8443}. */
  public String engineUrl() {
    return base;
  }

  /**
   * How requests are tried again after transient failures (default {@link RetryPolicy#DEFAULT};
   * {@link RetryPolicy#NONE} turns retries off), and whom to tell of each retry.
   */
  public EngineClient retries(RetryPolicy policy, RetryListener listener) {
    this.retry = Objects.requireNonNull(policy, "policy");
    this.retryListener = listener == null ? (what, attempt, cause) -> {} : listener;
    return this;
  }

  /** The user this client logged in as. */
  public String username() {
    return username;
  }

  // ---------------------------------------------------------------- storage domains and hosts

  /** The storage domain with exactly this name; NOT_FOUND when there is none. */
  public StorageDomain storageDomain(String name) {
    HttpUrl url = search("storagedomains", name);
    JsonNode root = get(url, "look up storage domain '" + name + "'", null);
    return items(root, "storage_domain", StorageDomain.class).stream()
        .filter(sd -> name.equals(sd.name()))
        .findFirst()
        .orElseThrow(() -> DiskferryException.notFound("storage domain '" + name + "' not found"));
  }

  public List<StorageDomain> storageDomains() {
    JsonNode root = get(path("storagedomains"), "list storage domains", null);
    return items(root, "storage_domain", StorageDomain.class);
  }

  /** A host by id (when the argument looks like a UUID) or by exact name; NOT_FOUND otherwise. */
  public Host host(String idOrName) {
    if (UUID.matcher(idOrName).matches()) {
      JsonNode n = get(path("hosts", idOrName), "get host " + idOrName, "host " + idOrName + " not found");
      return convert(n, Host.class, "get host " + idOrName);
    }
    JsonNode root = get(search("hosts", idOrName), "look up host '" + idOrName + "'", null);
    return items(root, "host", Host.class).stream()
        .filter(h -> idOrName.equals(h.name()))
        .findFirst()
        .orElseThrow(() -> DiskferryException.notFound("host '" + idOrName + "' not found"));
  }

  // ---------------------------------------------------------------- disks

  /** {@code POST /disks}; the new disk is normally still {@code locked}: see {@link #waitForDiskOk}. */
  public Disk createDisk(DiskSpec spec) {
    ObjectNode body = Json.mapper().createObjectNode();
    if (spec.id() != null) {
      body.put("id", spec.id());
    }
    if (spec.name() != null) {
      body.put("name", spec.name());
    }
    if (spec.description() != null) {
      body.put("description", spec.description());
    }
    if (spec.contentType() != null) {
      body.put("content_type", spec.contentType());
    }
    body.put("format", spec.format());
    body.put("sparse", spec.sparse());
    body.put("provisioned_size", spec.provisionedSize());
    if (spec.initialSize() != null) {
      body.put("initial_size", spec.initialSize());
    }
    if (spec.needsIncrementalBackup()) {
      body.put("backup", "incremental");
    }
    if (spec.storageDomainName() != null) {
      ArrayNode sds = body.putObject("storage_domains").putArray("storage_domain");
      sds.addObject().put("name", spec.storageDomainName());
    }
    String action = "create disk '" + spec.name() + "'";
    Answer a = exchange("POST", path("disks"), bytes(body), action);
    if (a.code == 200 || a.code == 201 || a.code == 202) {
      return convert(parse(a.body, action), Disk.class, action);
    }
    throw EngineErrors.forStatus(
        a.code, a.body, action,
        spec.storageDomainName() == null
            ? null
            : "storage domain '" + spec.storageDomainName() + "' not found");
  }

  /** The disk; NOT_FOUND "disk X not found". */
  public Disk disk(String id) {
    return convert(get(path("disks", id), "get disk " + id, "disk " + id + " not found"),
        Disk.class, "get disk " + id);
  }

  /** The disk, or empty when the engine answers 404. */
  public Optional<Disk> findDisk(String id) {
    return find(path("disks", id), "get disk " + id, Disk.class);
  }

  /** Disks whose name is exactly {@code name} (names are not unique). */
  public List<Disk> disksByName(String name) {
    JsonNode root = get(search("disks", name), "look up disk '" + name + "'", null);
    List<Disk> out = new ArrayList<>();
    for (Disk d : items(root, "disk", Disk.class)) {
      if (name.equals(d.name())) {
        out.add(d);
      }
    }
    return out;
  }

  public List<Disk> disks() {
    return items(get(path("disks"), "list disks", null), "disk", Disk.class);
  }

  /**
   * Polls the disk until it is {@code ok}, backing off from 0.2 s to about 3 s.
   *
   * @throws DiskferryException FAILED at once when the disk turns {@code illegal} and after
   *     {@code timeout}; NOT_FOUND when the disk disappears
   */
  public Disk waitForDiskOk(String id, Duration timeout) {
    AtomicReference<String> last = new AtomicReference<>("unknown");
    return Poll.until(
        timeout,
        () -> "disk " + id + " to become ok (status: " + last.get() + ")",
        () -> {
          Disk d = disk(id);
          last.set(d.status() == null ? "none" : d.status());
          if (d.isIllegal()) {
            throw DiskferryException.failed(
                "disk " + id + " became illegal while waiting for it to become ok");
          }
          return d.isOk() ? Optional.of(d) : Optional.empty();
        });
  }

  /**
   * Waits until the disk is not locked (an operation on it, such as the end of a transfer, has
   * finished). Empty when the disk is gone, or goes meanwhile.
   */
  public Optional<Disk> waitUntilUnlocked(String id, Duration timeout) {
    return Poll.until(
        timeout,
        "disk " + id + " to be unlocked",
        () -> {
          Optional<Disk> d = findDisk(id);
          return d.isPresent() && d.get().isLocked() ? Optional.empty() : Optional.of(d);
        });
  }

  /** {@code DELETE /disks/{id}}; NOT_FOUND when missing, CONFLICT when locked. */
  public void deleteDisk(String id) {
    String action = "delete disk " + id;
    Answer a = exchange("DELETE", path("disks", id), null, action);
    if (!a.ok()) {
      throw EngineErrors.forStatus(a.code, a.body, action, "disk " + id + " not found");
    }
  }

  // ---------------------------------------------------------------- image transfers

  /** {@code POST /imagetransfers} with {@code format: raw}; the answer may still be initializing. */
  public ImageTransfer createTransfer(TransferSpec spec) {
    ObjectNode body = Json.mapper().createObjectNode();
    body.putObject("disk").put("id", spec.diskId());
    if (spec.hostId() != null) {
      body.putObject("host").put("id", spec.hostId());
    }
    body.put("direction", spec.direction() == null ? "upload" : spec.direction());
    body.put("format", "raw");
    if (spec.inactivityTimeout() != null) {
      body.put("inactivity_timeout", spec.inactivityTimeout());
    }
    if (spec.timeoutPolicy() != null) {
      body.put("timeout_policy", spec.timeoutPolicy());
    }
    String action = "start an image " + body.get("direction").asText() + " of disk " + spec.diskId();
    Answer a = exchange("POST", path("imagetransfers"), bytes(body), action);
    if (a.ok()) {
      return convert(parse(a.body, action), ImageTransfer.class, action);
    }
    throw EngineErrors.forStatus(a.code, a.body, action, "disk " + spec.diskId() + " not found");
  }

  /** The transfer; NOT_FOUND once the engine has removed it. */
  public ImageTransfer transfer(String id) {
    String action = "get image transfer " + id;
    return convert(
        get(path("imagetransfers", id), action, "image transfer " + id + " not found"),
        ImageTransfer.class, action);
  }

  /** The transfer, or empty when the engine answers 404 (removed some time after finishing). */
  public Optional<ImageTransfer> findTransfer(String id) {
    return find(path("imagetransfers", id), "get image transfer " + id, ImageTransfer.class);
  }

  public List<ImageTransfer> transfers() {
    return items(get(path("imagetransfers"), "list image transfers", null),
        "image_transfer", ImageTransfer.class);
  }

  /** Touches the transfer's database row (what engines before 4.2 needed to keep it alive). */
  public void extendTransfer(String id) {
    transferAction(id, "extend");
  }

  public void finalizeTransfer(String id) {
    transferAction(id, "finalize");
  }

  public void cancelTransfer(String id) {
    transferAction(id, "cancel");
  }

  public void pauseTransfer(String id) {
    transferAction(id, "pause");
  }

  public void resumeTransfer(String id) {
    transferAction(id, "resume");
  }

  private void transferAction(String id, String name) {
    String action = name + " image transfer " + id;
    Answer a =
        exchange("POST", path("imagetransfers", id, name), EMPTY_ACTION, action, true);
    if (!a.ok()) {
      throw EngineErrors.forStatus(a.code, a.body, action, "image transfer " + id + " not found");
    }
  }

  // ---------------------------------------------------------------- session

  /** Logs out of the engine (errors ignored) and zeroes the password. Idempotent. */
  @Override
  public void close() {
    if (!closed.compareAndSet(false, true)) {
      return;
    }
    String t = token;
    token = null;
    try {
      if (t != null) {
        RequestBody form =
            new FormBody.Builder().add("scope", "ovirt-app-api").add("token", t).build();
        Request req =
            new Request.Builder()
                .url(baseUrl.newBuilder().addPathSegments("ovirt-engine/services/sso-logout").build())
                .header("Accept", "application/json")
                .post(form)
                .build();
        try (Response r = http.newCall(req).execute()) {
          r.body().bytes();
        }
      }
    } catch (IOException | RuntimeException e) {
      // Logging out is a courtesy; the session expires on its own.
    } finally {
      synchronized (loginLock) {
        Arrays.fill(password, '\0');
      }
    }
  }

  private String obtainToken() {
    HttpUrl url = baseUrl.newBuilder().addPathSegments("ovirt-engine/sso/oauth/token").build();
    byte[] form;
    synchronized (loginLock) {
      if (closed.get()) {
        throw new IllegalStateException("the engine client is closed");
      }
      form = SsoForm.passwordGrant(username, password);
    }
    Request req =
        new Request.Builder()
            .url(url)
            .header("Accept", "application/json")
            .post(RequestBody.create(form, FORM))
            .build();
    int code;
    String body;
    String location;
    try (Response r = http.newCall(req).execute()) {
      code = r.code();
      body = r.body().string();
      location = r.header("Location");
    } catch (IOException e) {
      throw EngineErrors.forIo(e, url, base);
    } finally {
      Arrays.fill(form, (byte) 0);
    }
    JsonNode json = null;
    try {
      json = body.isBlank() ? null : Json.mapper().readTree(body);
    } catch (JsonProcessingException e) {
      // not JSON (an HTML page from something that is not the engine SSO)
    }
    if (code == 200) {
      JsonNode t = json == null ? null : json.get("access_token");
      if (t == null || t.asText().isBlank()) {
        throw DiskferryException.failed(
            "login as " + username + " failed: the engine SSO at " + base
                + " answered without an access token");
      }
      return t.asText();
    }
    String text = ssoErrorText(json);
    if (code >= 300 && code < 400) {
      HttpUrl to = location == null ? null : url.resolve(location);
      throw DiskferryException.failed(
          "login as " + username + " failed: the engine at " + base + " redirects (HTTP " + code
              + (to == null ? "" : " to " + EngineErrors.origin(to)) + "); check the engine URL");
    }
    if (code == 404) {
      throw DiskferryException.failed(
          "login as " + username + " failed: no oVirt engine SSO service at " + base + " (HTTP 404)");
    }
    if (code >= 500 && text == null) {
      throw DiskferryException.failed(
          "engine error: login as " + username + " failed (HTTP " + code + ")");
    }
    throw DiskferryException.auth(
        "login as " + username + " failed: " + (text == null ? "HTTP " + code : text));
  }

  /** Both SSO failure shapes: {error_code, error: text} and {error: code, error_description}. */
  private static String ssoErrorText(JsonNode json) {
    if (json == null || !json.isObject()) {
      return null;
    }
    JsonNode desc = json.get("error_description");
    JsonNode err = json.get("error");
    JsonNode pick = desc != null && !desc.asText().isBlank() ? desc : err;
    if (pick == null || pick.asText().isBlank()) {
      return null;
    }
    return EngineErrors.oneLine(pick.asText());
  }

  private void relogin(String failedToken) {
    synchronized (loginLock) {
      if (Objects.equals(token, failedToken)) {
        token = obtainToken();
      }
    }
  }

  // ---------------------------------------------------------------- plumbing

  private record Answer(int code, String body) {
    boolean ok() {
      return code >= 200 && code < 300;
    }
  }

  private Answer exchange(String method, HttpUrl url, byte[] body, String action) {
    return exchange(method, url, body, action, !method.equals("POST"));
  }

  /**
   * One request, tried again after transient failures as the retry policy allows.
   *
   * @param repeatable the request may be sent twice (a GET, a DELETE, a transfer action): it is
   *     then also tried again after a 5xx answer or a dropped connection, not only after a
   *     refused one
   */
  private Answer exchange(
      String method, HttpUrl url, byte[] body, String action, boolean repeatable) {
    for (int attempt = 1; ; attempt++) {
      if (closed.get()) {
        throw new IllegalStateException("the engine client is closed");
      }
      Answer a;
      try {
        String used = token;
        a = once(method, url, body, used);
        if (a.code == 401) {
          relogin(used);
          a = once(method, url, body, token);
        }
      } catch (IOException e) {
        if (!retryable(e, repeatable) || !backOff(action, attempt, e)) {
          throw EngineErrors.forIo(e, url, base);
        }
        continue;
      }
      if ((repeatable ? RETRIED_STATUS.contains(a.code) : a.code == 503)
          && backOff(action, attempt, new EngineStatusException(a.code))) {
        continue;
      }
      return a;
    }
  }

  /** Answers that say the engine (or a proxy before it) is briefly unable to serve. */
  private static final java.util.Set<Integer> RETRIED_STATUS = java.util.Set.of(500, 502, 503, 504);

  /** A 5xx answer, as the cause a retry reports. */
  private static final class EngineStatusException extends IOException {
    EngineStatusException(int code) {
      super("HTTP " + code + " from the engine");
    }
  }

  /**
   * True when a failed request may be sent again: never after a TLS trust failure or a read that
   * timed out; after a refused connection always (the engine never saw the request); after any
   * other connection failure only when the request may be repeated.
   */
  private static boolean retryable(IOException e, boolean repeatable) {
    if (EngineErrors.isTlsTrust(e) || e instanceof java.io.InterruptedIOException) {
      return false;
    }
    return repeatable
        || e instanceof java.net.ConnectException
        || e instanceof java.net.NoRouteToHostException;
  }

  /** Waits before another try; false when the retry budget of this request is spent. */
  private boolean backOff(String action, int attempt, IOException cause) {
    RetryPolicy policy = retry;
    if (attempt >= policy.attemptsPerRequest() || Thread.currentThread().isInterrupted()) {
      return false;
    }
    retryListener.retry(action, attempt, cause);
    try {
      Thread.sleep(policy.delay(attempt, cause).toMillis());
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  private Answer once(String method, HttpUrl url, byte[] body, String bearer) throws IOException {
    Request.Builder b =
        new Request.Builder()
            .url(url)
            .header("Authorization", "Bearer " + bearer)
            .header("Version", "4")
            .header("Accept", "application/json");
    b.method(method, body == null ? null : RequestBody.create(body, JSON));
    try (Response r = http.newCall(b.build()).execute()) {
      return new Answer(r.code(), r.body().string());
    }
  }

  private JsonNode get(HttpUrl url, String action, String notFound) {
    Answer a = exchange("GET", url, null, action);
    if (a.code != 200) {
      throw EngineErrors.forStatus(a.code, a.body, action, notFound);
    }
    return parse(a.body, action);
  }

  private <T> Optional<T> find(HttpUrl url, String action, Class<T> type) {
    Answer a = exchange("GET", url, null, action);
    if (a.code == 404) {
      return Optional.empty();
    }
    if (a.code != 200) {
      throw EngineErrors.forStatus(a.code, a.body, action, null);
    }
    return Optional.of(convert(parse(a.body, action), type, action));
  }

  private static JsonNode parse(String body, String action) {
    if (body == null || body.isBlank()) {
      return Json.mapper().createObjectNode();
    }
    try {
      return Json.mapper().readTree(body);
    } catch (JsonProcessingException e) {
      throw DiskferryException.failed(
          "cannot " + action + ": the engine answered something that is not JSON");
    }
  }

  private static <T> T convert(JsonNode node, Class<T> type, String action) {
    try {
      return Json.mapper().treeToValue(node, type);
    } catch (JsonProcessingException | IllegalArgumentException e) {
      // The parser's message may quote the answer, which can hold a transfer URL: leave it out.
      throw DiskferryException.failed(
          "cannot " + action + ": the engine's answer is not a valid "
              + type.getSimpleName() + " entity");
    }
  }

  /** The items of a collection {"key": [...]}; an empty collection is {} (no key). */
  private static <T> List<T> items(JsonNode root, String key, Class<T> type) {
    JsonNode items = root == null ? null : root.get(key);
    List<T> out = new ArrayList<>();
    if (items == null || items.isNull()) {
      return out;
    }
    if (items.isArray()) {
      for (JsonNode n : items) {
        out.add(convert(n, type, "read the engine's " + key + " list"));
      }
    } else if (items.isObject()) {
      out.add(convert(items, type, "read the engine's " + key + " list"));
    }
    return out;
  }

  private HttpUrl path(String... segments) {
    HttpUrl.Builder b = api.newBuilder();
    for (String s : segments) {
      b.addPathSegment(s);
    }
    return b.build();
  }

  /** {@code /<collection>?search=name%3D<name>&case_sensitive=true}; the caller matches exactly. */
  private HttpUrl search(String collection, String name) {
    String value = name.chars().anyMatch(Character::isWhitespace)
        ? "\"" + name.replace("\"", "") + "\""
        : name;
    return path(collection).newBuilder()
        .addQueryParameter("search", "name=" + value)
        .addQueryParameter("case_sensitive", "true")
        .build();
  }

  private static byte[] bytes(JsonNode body) {
    try {
      return Json.mapper().writeValueAsBytes(body);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  // ------------------------------------------------------- for other resource clients

  /** What an engine request answered: HTTP status and body (JSON text). */
  record Reply(int code, String body) {
    boolean ok() {
      return code >= 200 && code < 300;
    }
  }

  /**
   * One API request through this client's session (bearer token, one re-login after a 401, I/O
   * failures as one-line errors), for the clients of other engine resources ({@link VmBackups}).
   *
   * @param segments path below {@code /ovirt-engine/api}, one segment each
   * @param query name, value pairs; may be empty
   * @param body JSON, or null for none
   */
  Reply request(String method, List<String> segments, List<String> query, JsonNode body,
      String action) {
    HttpUrl.Builder u = path(segments.toArray(new String[0])).newBuilder();
    for (int i = 0; i + 1 < query.size(); i += 2) {
      u.addQueryParameter(query.get(i), query.get(i + 1));
    }
    byte[] bytes = body == null ? ("POST".equals(method) ? EMPTY_ACTION : null) : bytes(body);
    Answer a = exchange(method, u.build(), bytes, action);
    return new Reply(a.code, a.body);
  }

  /** An answer's JSON ({} for an empty body); FAILED, without quoting it, when it is not JSON. */
  static JsonNode json(String body, String action) {
    return parse(body, action);
  }
}
