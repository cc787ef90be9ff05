package org.diskferry.sandbox;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.diskferry.http.Json;

/** The engine side: SSO, pki-resource and the REST API subset (oVirt engine 4.5). */
final class EngineApi {
  private static final Logger LOG = Logger.getLogger(EngineApi.class.getName());
  private static final String API = "/ovirt-engine/api";
  private static final Pattern UUID_RE =
      Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");
  private static final String UNAUTHORIZED_HTML =
      "<html><head><title>Error</title></head><body>Unauthorized</body></html>";

  private static final Set<String> DISK_PROPS = Set.of(
      "id", "href", "name", "description", "comment", "alias", "actual_size", "backup",
      "backup_mode", "bootable", "content_type", "disk_profile", "disk_snapshots",
      "external_disk", "format", "image_id", "initial_size", "instance_type", "interface",
      "logical_name", "lun_storage", "openstack_volume_type", "permissions", "propagate_errors",
      "provisioned_size", "qcow_version", "quota", "read_only", "sgio", "shareable", "snapshot",
      "sparse", "statistics", "status", "storage_domain", "storage_domains", "storage_type",
      "template", "total_size", "uses_scsi_reservation", "vm", "vms", "wipe_after_delete",
      "link", "actions");
  private static final Set<String> TRANSFER_PROPS = Set.of(
      "id", "href", "name", "description", "comment", "active", "backup", "direction", "disk",
      "format", "host", "image", "inactivity_timeout", "phase", "proxy_url", "shallow",
      "snapshot", "timeout_policy", "transfer_url", "transferred", "link", "actions");
  private static final List<String> TRANSFER_ACTIONS =
      List.of("cancel", "extend", "finalize", "pause", "resume");

  private final Sandbox sb;

  EngineApi(Sandbox sandbox) {
    this.sb = sandbox;
  }

  void handle(Exchange ex) throws IOException {
    String path = ex.path();
    try {
      if (path.equals("/ovirt-engine/sso/oauth/token")) {
        token(ex);
      } else if (path.equals("/ovirt-engine/services/sso-logout")) {
        logout(ex);
      } else if (path.equals("/ovirt-engine/services/pki-resource")) {
        pki(ex);
      } else if (path.equals(API) || path.startsWith(API + "/")) {
        api(ex, path.substring(API.length()));
      } else {
        sendText(ex, 404, "text/plain; charset=UTF-8", "Not Found");
      }
    } catch (ApiException e) {
      if (ex.responded()) {
        throw new IOException("error after the response started", e);
      }
      if (e.body == null) {
        send(ex, e.status, null, null);
      } else {
        send(ex, e.status, e.body, null);
      }
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "engine request failed: " + ex.method() + " " + path, e);
      if (!ex.responded()) {
        send(ex, 500, ApiException.fault(500, "Operation Failed", String.valueOf(e.getMessage())).body, null);
      }
    }
  }

  // ---- SSO ----

  private Map<String, String> formParams(Exchange ex) throws IOException {
    Map<String, String> p = new LinkedHashMap<>(ex.query());
    byte[] body = ex.readSmallBody(64 * 1024);
    if (body != null && body.length > 0) {
      p.putAll(Exchange.parseForm(new String(body, StandardCharsets.UTF_8)));
    }
    return p;
  }

  private static ObjectNode oauthError(String code, String description) {
    ObjectNode o = Json.mapper().createObjectNode();
    o.put("error", code);
    o.put("error_description", description);
    return o;
  }

  private void token(Exchange ex) throws IOException {
    Map<String, String> p = formParams(ex);
    String accept = ex.header("accept");
    if (!"application/json".equals(accept)) {
      send(ex, 400, oauthError("invalid_request", "The Accept header must be application/json."), null);
      return;
    }
    String grant = p.get("grant_type");
    if (grant == null) {
      send(ex, 400, oauthError("invalid_request",
          "The request is missing a required parameter: grant_type."), null);
      return;
    }
    if (!grant.equals("password")) {
      send(ex, 400, oauthError("unsupported_grant_type",
          "The authorization grant type is not supported by the authorization server."), null);
      return;
    }
    String scope = p.getOrDefault("scope", "");
    boolean apiScope = List.of(scope.split(" ")).contains("ovirt-app-api");
    String user = p.get("username");
    String pass = p.get("password");
    if (user == null || pass == null) {
      send(ex, 400, oauthError("invalid_request",
          "The request is missing a required parameter: " + (user == null ? "username" : "password") + "."), null);
      return;
    }
    if (!credentialsOk(user, pass)) {
      String text = "Cannot authenticate user '" + user + "': The username or password is incorrect.";
      if (apiScope) {
        ObjectNode o = Json.mapper().createObjectNode();
        o.put("error_code", "access_denied");
        o.put("error", text);
        send(ex, 400, o, null);
      } else {
        send(ex, 400, oauthError("access_denied", text), null);
      }
      return;
    }
    if (!apiScope) {
      send(ex, 400, oauthError("invalid_scope",
          "The requested scope is invalid: the scope 'ovirt-app-api' is required."), null);
      return;
    }
    String token = Sandbox.randomSecret(48);
    sb.tokens.put(token, Boolean.TRUE);
    ObjectNode o = Json.mapper().createObjectNode();
    o.put("access_token", token);
    o.put("scope", "ovirt-app-api ovirt-ext=token-info:authz-search ovirt-ext=token-info:public-authz-search ovirt-ext=token-info:validate ovirt-ext=token:password-access");
    o.put("exp", String.valueOf(Long.MAX_VALUE));
    o.put("token_type", "bearer");
    send(ex, 200, o, null);
  }

  private boolean credentialsOk(String user, String pass) {
    return Sandbox.USERNAME.equals(user) && MessageDigestEq.eq(sb.password(), pass);
  }

  /** Constant-time string comparison. */
  private static final class MessageDigestEq {
    static boolean eq(String a, String b) {
      return java.security.MessageDigest.isEqual(
          a.getBytes(StandardCharsets.UTF_8), b.getBytes(StandardCharsets.UTF_8));
    }
  }

  private void logout(Exchange ex) throws IOException {
    Map<String, String> p = formParams(ex);
    String token = p.get("token");
    if (token != null) {
      sb.tokens.remove(token);
    }
    send(ex, 200, Json.mapper().createObjectNode(), null);
  }

  private void pki(Exchange ex) throws IOException {
    String resource = ex.query("resource");
    String format = ex.query("format");
    String pem;
    String type;
    if (("ca-certificate".equals(resource) || "qemu-ca-certificate".equals(resource))
        && ("X509-PEM-CA".equals(format) || "X509-PEM".equals(format))) {
      pem = sb.caPem;
      type = "X509-PEM-CA".equals(format) ? "application/x-x509-ca-cert" : "application/x-x509-cert";
    } else if ("engine-certificate".equals(resource) && ("X509-PEM".equals(format) || "X509-PEM-CA".equals(format))) {
      pem = sb.serverCertPem;
      type = "application/x-x509-cert";
    } else {
      sendText(ex, 400, "text/plain; charset=UTF-8", "Bad Request");
      return;
    }
    if (pem == null) {
      sendText(ex, 404, "text/plain; charset=UTF-8", "No certificate: the sandbox serves plain HTTP");
      return;
    }
    sendText(ex, 200, type, pem.endsWith("\n") ? pem.substring(0, pem.length() - 1) : pem);
  }

  // ---- API ----

  private boolean authenticated(Exchange ex) {
    String auth = ex.header("authorization");
    if (auth != null) {
      if (auth.regionMatches(true, 0, "Bearer ", 0, 7)) {
        return sb.tokens.containsKey(auth.substring(7).trim());
      }
      if (auth.regionMatches(true, 0, "Basic ", 0, 6)) {
        String decoded;
        try {
          decoded = new String(Base64.getDecoder().decode(auth.substring(6).trim()), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
          return false;
        }
        int c = decoded.indexOf(':');
        return c > 0 && credentialsOk(decoded.substring(0, c), decoded.substring(c + 1));
      }
      return false;
    }
    String session = cookie(ex, "JSESSIONID");
    return session != null && sb.sessions.containsKey(session);
  }

  private static String cookie(Exchange ex, String name) {
    String c = ex.header("cookie");
    if (c == null) {
      return null;
    }
    for (String part : c.split(";")) {
      String p = part.trim();
      if (p.startsWith(name + "=")) {
        return p.substring(name.length() + 1);
      }
    }
    return null;
  }

  private void api(Exchange ex, String p) throws IOException {
    if (!authenticated(ex)) {
      Map<String, String> h = new LinkedHashMap<>();
      h.put("www-authenticate", "Basic realm=\"RESTAPI\"");
      h.put("content-type", "text/html;charset=UTF-8");
      ex.send(401, h, UNAUTHORIZED_HTML.getBytes(StandardCharsets.UTF_8));
      return;
    }
    Map<String, String> extra = new LinkedHashMap<>();
    String prefer = ex.header("prefer");
    String auth = ex.header("authorization");
    if (prefer != null && prefer.contains("persistent-auth") && auth != null
        && auth.regionMatches(true, 0, "Basic ", 0, 6)) {
      String session = Sandbox.randomSecret(24);
      sb.sessions.put(session, Boolean.TRUE);
      extra.put("set-cookie", "JSESSIONID=" + session + "; Path=/ovirt-engine/api; Secure; HttpOnly");
    }
    String version = ex.header("version");
    if (p.startsWith("/v")) {
      Matcher m = Pattern.compile("/v(\\d+)(/.*)?").matcher(p);
      if (m.matches()) {
        if (!m.group(1).equals("4")) {
          throw new ApiException(400, null);
        }
        p = m.group(2) == null ? "" : m.group(2);
      }
    }
    if (version != null && !version.trim().equals("4")) {
      throw new ApiException(400, null);
    }
    while (p.endsWith("/")) {
      p = p.substring(0, p.length() - 1);
    }
    String[] seg = p.isEmpty() ? new String[0] : p.substring(1).split("/");
    String method = ex.method();
    JsonNode result;
    int status = 200;
    if (seg.length == 0) {
      requireMethod(method, "GET");
      result = apiRoot();
    } else {
      switch (seg[0]) {
        case "storagedomains":
          requireMethod(method, "GET");
          result = storageDomains(ex, seg);
          break;
        case "datacenters":
          requireMethod(method, "GET");
          result = dataCenters(ex, seg);
          break;
        case "hosts":
          requireMethod(method, "GET");
          result = hosts(ex, seg);
          break;
        case "clusters":
          requireMethod(method, "GET");
          result = clusters(seg);
          break;
        case "disks": {
          Object[] r = disks(ex, seg, extra);
          status = (Integer) r[0];
          result = (JsonNode) r[1];
          break;
        }
        case "imagetransfers": {
          Object[] r = transfers(ex, seg, extra);
          status = (Integer) r[0];
          result = (JsonNode) r[1];
          break;
        }
        default:
          throw ApiException.notFound();
      }
    }
    send(ex, status, result, extra);
  }

  private static void requireMethod(String method, String allowed) {
    if (!method.equals(allowed)) {
      throw new ApiException(405, null);
    }
  }

  private boolean async(Exchange ex) {
    String expect = ex.header("expect");
    return bool(ex.query("async"), false) || (expect != null && expect.contains("202-accepted"));
  }

  private static boolean wantsCreated(Exchange ex) {
    String e = ex.header("expect");
    String x = ex.header("x-ovirt-expect");
    return (e != null && e.contains("201-created")) || (x != null && x.contains("201-created"));
  }

  // ---- rendering helpers ----

  private static ObjectNode obj() {
    return Json.mapper().createObjectNode();
  }

  private static ObjectNode ref(String collection, String id) {
    ObjectNode o = obj();
    o.put("href", API + "/" + collection + "/" + id);
    o.put("id", id);
    return o;
  }

  private static void links(ObjectNode o, String base, String... rels) {
    ArrayNode a = o.putArray("link");
    for (String r : rels) {
      a.addObject().put("href", base + "/" + r).put("rel", r);
    }
  }

  private static void actions(ObjectNode o, String base, List<String> rels) {
    ArrayNode a = o.putObject("actions").putArray("link");
    for (String r : rels) {
      a.addObject().put("href", base + "/" + r).put("rel", r);
    }
  }

  /** {@code {"<singular>":[...]}}, or {@code {}} when empty. */
  private static ObjectNode collection(String singular, List<ObjectNode> items) {
    ObjectNode o = obj();
    if (!items.isEmpty()) {
      ArrayNode a = o.putArray(singular);
      items.forEach(a::add);
    }
    return o;
  }

  private static String s(long v) {
    return Long.toString(v);
  }

  private static String s(boolean v) {
    return Boolean.toString(v);
  }

  private ObjectNode apiRoot() {
    ObjectNode o = obj();
    ObjectNode pi = o.putObject("product_info");
    pi.put("instance_id", Sandbox.stableId("instance"));
    pi.put("name", "oVirt Engine");
    pi.put("vendor", "ovirt.org");
    ObjectNode v = pi.putObject("version");
    v.put("build", "7");
    v.put("full_version", "4.5.7-1.diskferry.sandbox");
    v.put("major", "4");
    v.put("minor", "5");
    v.put("revision", "0");
    o.putObject("special_objects");
    o.put("time", System.currentTimeMillis());
    links(o, API, "clusters", "datacenters", "disks", "hosts", "imagetransfers", "storagedomains");
    return o;
  }

  // ---- inventory ----

  private record Sd(String id, String name, String storageType, boolean master, String profileId) {}

  private static final List<Sd> SDS = List.of(
      new Sd(Sandbox.SD_ID, Sandbox.SD_NAME, "nfs", true, Sandbox.DISK_PROFILE_ID),
      new Sd(Sandbox.SD_BLOCK_ID, Sandbox.SD_BLOCK_NAME, "iscsi", false, Sandbox.DISK_PROFILE_BLOCK_ID));

  private static Sd sdById(String id) {
    return SDS.stream().filter(s -> s.id.equals(id)).findFirst().orElse(null);
  }

  private ObjectNode renderSd(Sd sd, boolean withStatus) {
    long used;
    long available;
    synchronized (sb.lock) {
      used = sb.disks.values().stream().filter(d -> d.storageDomainId.equals(sd.id)).mapToLong(Disk::actualSize).sum();
    }
    try {
      available = Files.getFileStore(sb.disksDir).getUsableSpace();
    } catch (IOException e) {
      available = 0;
    }
    long committed;
    synchronized (sb.lock) {
      committed = sb.disks.values().stream().filter(d -> d.storageDomainId.equals(sd.id)).mapToLong(d -> d.provisionedSize).sum();
    }
    ObjectNode o = obj();
    o.put("available", s(available));
    o.put("backup", "false");
    o.put("block_size", "512");
    o.put("committed", s(committed));
    o.put("critical_space_action_blocker", "5");
    o.put("discard_after_delete", "false");
    o.put("external_status", "ok");
    o.put("master", s(sd.master));
    o.put("name", sd.name);
    if (withStatus) {
      o.put("status", "active");
    }
    ObjectNode st = o.putObject("storage");
    st.put("type", sd.storageType);
    if (sd.storageType.equals("nfs")) {
      st.put("address", "127.0.0.1");
      st.put("path", "/sandbox/" + sd.name);
    }
    o.put("storage_format", "v5");
    o.put("supports_discard", "false");
    o.put("supports_discard_zeroes_data", "false");
    o.put("type", "data");
    o.put("used", s(used));
    o.put("warning_low_space_indicator", "10");
    o.put("wipe_after_delete", "false");
    o.putObject("data_centers").putArray("data_center").add(ref("datacenters", Sandbox.DC_ID));
    String href = API + "/storagedomains/" + sd.id;
    links(o, href, "diskprofiles", "disks", "permissions", "disksnapshots", "statistics");
    o.put("href", href);
    o.put("id", sd.id);
    return o;
  }

  private Map<String, String> sdFields(Sd sd) {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("name", sd.name);
    f.put("id", sd.id);
    f.put("type", "data");
    f.put("storage.type", sd.storageType);
    f.put("datacenter", "dc1");
    f.put("status", "active");
    return f;
  }

  private JsonNode storageDomains(Exchange ex, String[] seg) {
    if (seg.length == 1) {
      List<ObjectNode> items = new ArrayList<>();
      for (Sd sd : SDS) {
        if (matches(ex, sdFields(sd))) {
          items.add(renderSd(sd, false));
        }
      }
      return collection("storage_domain", limit(ex, items));
    }
    Sd sd = sdById(seg[1]);
    if (sd == null) {
      throw ApiException.notFound();
    }
    if (seg.length == 2) {
      return renderSd(sd, false);
    }
    if (seg.length == 3 && seg[2].equals("disks")) {
      return diskList(ex, d -> d.storageDomainId.equals(sd.id));
    }
    throw ApiException.notFound();
  }

  private JsonNode dataCenters(Exchange ex, String[] seg) {
    if (seg.length == 1) {
      Map<String, String> f = new LinkedHashMap<>();
      f.put("name", "dc1");
      f.put("id", Sandbox.DC_ID);
      f.put("status", "up");
      List<ObjectNode> items = new ArrayList<>();
      String search = ex.query("search");
      boolean storageOk = true;
      if (search != null) {
        Map<String, String> storage = parseSearch(search).stream()
            .filter(c -> c[0].equals("storage.name") || c[0].equals("storage"))
            .collect(LinkedHashMap::new, (m, c) -> m.put(c[0], c[1]), Map::putAll);
        for (String want : storage.values()) {
          storageOk &= SDS.stream().anyMatch(sd -> globMatch(want, sd.name, caseSensitive(ex)));
        }
      }
      if (storageOk && matches(ex, f)) {
        items.add(renderDc());
      }
      return collection("data_center", limit(ex, items));
    }
    if (!seg[1].equals(Sandbox.DC_ID)) {
      throw ApiException.notFound();
    }
    if (seg.length == 2) {
      return renderDc();
    }
    if (seg[2].equals("storagedomains")) {
      if (seg.length == 3) {
        List<ObjectNode> items = new ArrayList<>();
        for (Sd sd : SDS) {
          items.add(renderSd(sd, true));
        }
        return collection("storage_domain", items);
      }
      Sd sd = sdById(seg[3]);
      if (sd == null || seg.length > 4) {
        throw ApiException.notFound();
      }
      return renderSd(sd, true);
    }
    if (seg[2].equals("clusters") && seg.length == 3) {
      return collection("cluster", List.of(renderCluster()));
    }
    throw ApiException.notFound();
  }

  private static ObjectNode renderDc() {
    ObjectNode o = obj();
    o.put("local", "false");
    o.put("name", "dc1");
    o.put("quota_mode", "disabled");
    o.put("status", "up");
    o.put("storage_format", "v5");
    ObjectNode v = o.putObject("version");
    v.put("major", "4");
    v.put("minor", "7");
    String href = API + "/datacenters/" + Sandbox.DC_ID;
    links(o, href, "clusters", "storagedomains", "networks", "permissions", "quotas");
    o.put("href", href);
    o.put("id", Sandbox.DC_ID);
    return o;
  }

  private static ObjectNode renderCluster() {
    ObjectNode o = obj();
    o.put("name", "Default");
    o.set("data_center", ref("datacenters", Sandbox.DC_ID));
    o.put("href", API + "/clusters/" + Sandbox.CLUSTER_ID);
    o.put("id", Sandbox.CLUSTER_ID);
    return o;
  }

  private JsonNode clusters(String[] seg) {
    if (seg.length == 1) {
      return collection("cluster", List.of(renderCluster()));
    }
    if (seg.length == 2 && seg[1].equals(Sandbox.CLUSTER_ID)) {
      return renderCluster();
    }
    throw ApiException.notFound();
  }

  private static ObjectNode renderHost() {
    ObjectNode o = obj();
    o.put("address", "127.0.0.1");
    o.put("name", "host1");
    o.put("status", "up");
    o.put("type", "rhel");
    o.set("cluster", ref("clusters", Sandbox.CLUSTER_ID));
    String href = API + "/hosts/" + Sandbox.HOST_ID;
    links(o, href, "nics", "permissions", "statistics", "storage");
    o.put("href", href);
    o.put("id", Sandbox.HOST_ID);
    return o;
  }

  private JsonNode hosts(Exchange ex, String[] seg) {
    if (seg.length == 1) {
      Map<String, String> f = new LinkedHashMap<>();
      f.put("name", "host1");
      f.put("id", Sandbox.HOST_ID);
      f.put("hw_id", Sandbox.HOST_ID);
      f.put("address", "127.0.0.1");
      f.put("status", "up");
      f.put("datacenter", "dc1");
      f.put("cluster", "Default");
      List<ObjectNode> items = new ArrayList<>();
      if (matches(ex, f)) {
        items.add(renderHost());
      }
      return collection("host", limit(ex, items));
    }
    if (seg.length == 2 && seg[1].equals(Sandbox.HOST_ID)) {
      return renderHost();
    }
    throw ApiException.notFound();
  }

  // ---- search ----

  /** Clauses of an engine search: {key, value, operator}. */
  private static List<String[]> parseSearch(String search) {
    List<String[]> out = new ArrayList<>();
    String s = search.trim().replaceFirst("^[A-Za-z]+\\s*:\\s*", "");
    if (s.isEmpty() || s.equals("*")) {
      return out;
    }
    for (String clause : s.split("(?i)\\s+and\\s+")) {
      Matcher m = Pattern.compile("([A-Za-z_.]+)\\s*(!=|=)\\s*(.*)").matcher(clause.trim());
      if (m.matches()) {
        String v = m.group(3).trim();
        if (v.length() >= 2 && (v.startsWith("\"") && v.endsWith("\"") || v.startsWith("'") && v.endsWith("'"))) {
          v = v.substring(1, v.length() - 1);
        }
        out.add(new String[] {m.group(1).toLowerCase(Locale.ROOT), v, m.group(2)});
      } else {
        out.add(new String[] {"name", clause.trim(), "="});
      }
    }
    return out;
  }

  private static boolean caseSensitive(Exchange ex) {
    return bool(ex.query("case_sensitive"), true);
  }

  private static boolean matches(Exchange ex, Map<String, String> fields) {
    String search = ex.query("search");
    if (search == null) {
      return true;
    }
    boolean cs = caseSensitive(ex);
    for (String[] c : parseSearch(search)) {
      String actual = fields.get(c[0]);
      if (actual == null) {
        continue; // a criterion the sandbox does not model: ignore it
      }
      boolean insensitiveField = c[0].equals("status") || c[0].endsWith("type") || c[0].equals("format");
      boolean m = globMatch(c[1], actual, cs && !insensitiveField);
      if (m == c[2].equals("!=")) {
        return false;
      }
    }
    return true;
  }

  static boolean globMatch(String pattern, String value, boolean caseSensitive) {
    StringBuilder re = new StringBuilder();
    String[] parts = pattern.split("\\*", -1);
    for (int i = 0; i < parts.length; i++) {
      if (i > 0) {
        re.append(".*");
      }
      re.append(Pattern.quote(parts[i]));
    }
    int flags = caseSensitive ? 0 : Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE;
    return Pattern.compile(re.toString(), flags | Pattern.DOTALL).matcher(value).matches();
  }

  private static List<ObjectNode> limit(Exchange ex, List<ObjectNode> items) {
    String max = ex.query("max");
    if (max != null) {
      try {
        int n = Integer.parseInt(max.trim());
        if (n >= 0 && n < items.size()) {
          return items.subList(0, n);
        }
      } catch (NumberFormatException e) {
        throw ApiException.fault(400, "Invalid value", "'" + max + "' is not a valid integer for 'max'");
      }
    }
    return items;
  }

  static boolean bool(String v, boolean dflt) {
    if (v == null || v.isEmpty()) {
      return dflt;
    }
    switch (v.toLowerCase(Locale.ROOT)) {
      case "t": case "true": case "y": case "yes": case "1":
        return true;
      case "f": case "false": case "n": case "no": case "0":
        return false;
      default:
        throw ApiException.fault(400, "Invalid value", "'" + v + "' is not a valid boolean value.");
    }
  }

  // ---- disks ----

  private ObjectNode renderDisk(Disk d, long now) {
    ObjectNode o = obj();
    long actual = d.actualSize();
    o.put("actual_size", s(actual));
    o.put("alias", d.name);
    o.put("backup", d.backup);
    o.put("content_type", d.contentType);
    if (d.description != null) {
      o.put("description", d.description);
    }
    o.put("format", d.format);
    o.put("image_id", d.imageId);
    o.put("name", d.name);
    o.put("propagate_errors", "false");
    o.put("provisioned_size", s(d.provisionedSize));
    if (d.format.equals("cow")) {
      o.put("qcow_version", "qcow2_v3");
    }
    o.put("shareable", "false");
    o.put("sparse", s(d.sparse));
    String status = sb.statusOf(d, now);
    if (status != null) {
      o.put("status", status);
    }
    o.put("storage_type", "image");
    o.put("total_size", s(actual));
    o.put("wipe_after_delete", "false");
    Sd sd = sdById(d.storageDomainId);
    o.set("disk_profile", ref("diskprofiles", sd == null ? Sandbox.DISK_PROFILE_ID : sd.profileId));
    o.putObject("storage_domains").putArray("storage_domain").add(ref("storagedomains", d.storageDomainId));
    String href = API + "/disks/" + d.id;
    actions(o, href, List.of("convert", "copy", "export", "move", "reduce", "refreshlun", "sparsify"));
    links(o, href, "disksnapshots", "permissions", "statistics");
    o.put("href", href);
    o.put("id", d.id);
    return o;
  }

  private Map<String, String> diskFields(Disk d, long now) {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("name", d.name);
    f.put("alias", d.name);
    f.put("id", d.id);
    f.put("status", sb.statusOf(d, now));
    f.put("format", d.format);
    f.put("description", d.description == null ? "" : d.description);
    Sd sd = sdById(d.storageDomainId);
    if (sd != null) {
      f.put("storage", sd.name);
      f.put("storage.name", sd.name);
    }
    f.put("provisioned_size", s(d.provisionedSize));
    return f;
  }

  private JsonNode diskList(Exchange ex, java.util.function.Predicate<Disk> filter) {
    long now = System.nanoTime();
    List<ObjectNode> items = new ArrayList<>();
    synchronized (sb.lock) {
      for (Disk d : sb.disks.values()) {
        if (filter.test(d) && matches(ex, diskFields(d, now))) {
          items.add(renderDisk(d, now));
        }
      }
    }
    return collection("disk", limit(ex, items));
  }

  private Object[] disks(Exchange ex, String[] seg, Map<String, String> extra) throws IOException {
    String method = ex.method();
    if (seg.length == 1) {
      if (method.equals("GET")) {
        return new Object[] {200, diskList(ex, d -> true)};
      }
      requireMethod(method, "POST");
      return addDisk(ex, extra);
    }
    if (seg.length != 2) {
      throw ApiException.notFound();
    }
    String id = seg[1];
    if (!UUID_RE.matcher(id).matches()) {
      throw ApiException.notFound();
    }
    long now = System.nanoTime();
    synchronized (sb.lock) {
      Disk d = sb.disks.get(id);
      if (d == null) {
        throw ApiException.notFound();
      }
      if (method.equals("GET")) {
        return new Object[] {200, renderDisk(d, now)};
      }
      requireMethod(method, "DELETE");
      if (sb.isLocked(d, now)) {
        throw ApiException.failed(409, "Cannot remove Virtual Disk. The following disks are locked: "
            + d.name + ". Please try again in a few minutes.");
      }
      sb.removeDisk(d);
    }
    return new Object[] {200, obj().put("status", "complete")};
  }

  private JsonNode readBody(Exchange ex, Set<String> allowed, String usage) throws IOException {
    byte[] body = ex.readSmallBody(1 << 20);
    ApiException syntax = ApiException.fault(400, "Request syntactically incorrect.",
        "For correct usage, see: " + sb.engineUrl() + "/ovirt-engine/apidoc#services/" + usage);
    if (body == null || body.length == 0) {
      throw syntax;
    }
    JsonNode n;
    try {
      n = Json.mapper().readTree(body);
    } catch (JsonProcessingException e) {
      throw syntax;
    }
    if (n == null || !n.isObject()) {
      throw syntax;
    }
    n.fieldNames().forEachRemaining(f -> {
      if (!allowed.contains(f)) {
        throw syntax;
      }
    });
    return n;
  }

  private static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isValueNode()) {
      throw ApiException.fault(400, "Request syntactically incorrect.", "Field '" + field + "' must be a value");
    }
    return v.asText();
  }

  private static Long number(JsonNode n, String field) {
    String t = text(n, field);
    if (t == null) {
      return null;
    }
    try {
      return Long.parseLong(t.trim());
    } catch (NumberFormatException e) {
      throw ApiException.fault(400, "Invalid value", "'" + t + "' is not a valid long value for '" + field + "'.");
    }
  }

  private static Boolean bool(JsonNode n, String field) {
    String t = text(n, field);
    if (t == null) {
      return null;
    }
    switch (t.trim().toLowerCase(Locale.ROOT)) {
      case "true": case "1":
        return true;
      case "false": case "0":
        return false;
      default:
        throw ApiException.fault(400, "Invalid value", "'" + t + "' is not a valid boolean value.");
    }
  }

  private static String enumValue(JsonNode n, String field, String type, List<String> values) {
    String t = text(n, field);
    if (t == null) {
      return null;
    }
    String v = t.trim().toLowerCase(Locale.ROOT);
    if (!values.contains(v)) {
      throw ApiException.fault(400, "Invalid Enum value",
          "'" + t + "' is not a member of " + type + ". Possible values for " + type + " are: "
              + String.join(", ", values));
    }
    return v;
  }

  private Object[] addDisk(Exchange ex, Map<String, String> extra) throws IOException {
    JsonNode n = readBody(ex, DISK_PROPS, "disks/methods/add");
    String format = enumValue(n, "format", "DiskFormat", List.of("cow", "raw"));
    Long size = number(n, "provisioned_size");
    List<String> missing = new ArrayList<>();
    if (size == null) {
      missing.add("provisionedSize");
    }
    if (format == null) {
      missing.add("format");
    }
    if (!missing.isEmpty()) {
      throw ApiException.fault(400, "Incomplete parameters",
          "Disk " + missing + " required for add");
    }
    JsonNode sdNode = n.path("storage_domains").path("storage_domain");
    if (sdNode.isArray()) {
      sdNode = sdNode.size() > 0 ? sdNode.get(0) : null;
    }
    if (sdNode == null || sdNode.isMissingNode() || !sdNode.isObject()
        || (text(sdNode, "id") == null && text(sdNode, "name") == null)) {
      throw ApiException.fault(400, "Input validation failed.",
          "No matching signature found, make sure that mandatory attributes are provided.");
    }
    Sd sd;
    String sdId = text(sdNode, "id");
    if (sdId != null) {
      sd = sdById(sdId);
      if (sd == null) {
        throw ApiException.fault(404, "Operation Failed", "Entity not found: " + sdId);
      }
    } else {
      String sdName = text(sdNode, "name");
      sd = SDS.stream().filter(x -> x.name.equals(sdName)).findFirst().orElse(null);
      if (sd == null) {
        throw ApiException.fault(404, "Operation Failed", "Entity not found: " + sdName);
      }
    }
    Boolean sparseIn = bool(n, "sparse");
    boolean sparse = sparseIn == null || sparseIn;
    String backup = enumValue(n, "backup", "DiskBackup", List.of("incremental", "none"));
    if (backup == null) {
      backup = "none";
    }
    String contentType = enumValue(n, "content_type", "DiskContentType",
        List.of("backup_scratch", "data", "hosted_engine", "hosted_engine_configuration",
            "hosted_engine_sanlock", "iso", "memory_dump_volume", "memory_metadata_volume",
            "ovf_store"));
    if (contentType == null) {
      contentType = "data";
    }
    Long initial = number(n, "initial_size");
    if (size <= 0) {
      throw ApiException.failed(400, "Cannot add Virtual Disk. Disk size must be greater than zero.");
    }
    if (initial != null && initial < 0) {
      throw ApiException.failed(400, "Cannot add Virtual Disk. Initial size must be a positive number.");
    }
    boolean block = Sandbox.isBlock(sd.id);
    String cfg = null;
    if (format.equals("cow") && !sparse && !backup.equals("incremental")) {
      cfg = "COW Preallocated backup-None";
    } else if (format.equals("raw") && backup.equals("incremental")) {
      cfg = "RAW " + (sparse ? "Sparse" : "Preallocated") + " backup-Incremental";
    } else if (format.equals("raw") && sparse && block) {
      cfg = "RAW Sparse backup-None";
    }
    if (cfg != null) {
      throw ApiException.failed(409, "Cannot add Virtual Disk. Disk configuration (" + cfg
          + ") is incompatible with the storage domain type.");
    }
    if (block && size > 8192L * (1L << 30)) {
      throw ApiException.failed(400, "Cannot add Virtual Disk. Disk maximum size is 8192 GiB.");
    }
    String id = text(n, "id");
    if (id != null && !UUID_RE.matcher(id).matches()) {
      throw ApiException.fault(400, "Invalid value", "'" + id + "' is not a valid UUID.");
    }
    String imageId = text(n, "image_id");
    if (imageId != null && !UUID_RE.matcher(imageId).matches()) {
      throw ApiException.fault(400, "Invalid value", "'" + imageId + "' is not a valid UUID.");
    }
    String name = text(n, "name");
    if (name == null) {
      name = text(n, "alias");
    }
    long now = System.nanoTime();
    Disk d;
    synchronized (sb.lock) {
      if (id == null) {
        id = UUID.randomUUID().toString();
      } else {
        id = id.toLowerCase(Locale.ROOT);
        if (sb.disks.containsKey(id)) {
          throw ApiException.failed(409, "Cannot add Virtual Disk. Disk with the same ID already exists.");
        }
      }
      d = new Disk(sb.disksDir, id, imageId == null ? UUID.randomUUID().toString() : imageId.toLowerCase(Locale.ROOT),
          sd.id, size, System.currentTimeMillis());
      d.name = name == null ? "disk-" + id.substring(0, 8) : name;
      d.description = text(n, "description");
      d.format = format;
      d.sparse = sparse;
      d.contentType = contentType;
      d.initialSize = initial;
      d.backup = backup;
      d.status = "locked";
      d.readyAtNanos = now + Math.max(1, sb.config.diskReadyDelay().toNanos());
      d.createFile();
      d.saveMeta();
      sb.disks.put(id, d);
    }
    if (wantsCreated(ex)) {
      try {
        Thread.sleep(sb.config.diskReadyDelay().toMillis() + 1);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      synchronized (sb.lock) {
        extra.put("location", sb.engineUrl() + API + "/disks/" + id);
        return new Object[] {201, renderDisk(d, System.nanoTime())};
      }
    }
    synchronized (sb.lock) {
      ObjectNode o = renderDisk(d, now);
      o.put("creation_status", "pending");
      ((ArrayNode) o.get("link")).addObject()
          .put("href", API + "/disks/" + id + "/creation_status/" + UUID.randomUUID())
          .put("rel", "creation_status");
      return new Object[] {202, o};
    }
  }

  // ---- image transfers ----

  private ObjectNode renderTransfer(Transfer t) {
    ObjectNode o = obj();
    Ticket k = t.ticket;
    o.put("active", s(k != null && k.active.get() > 0));
    o.put("direction", t.download ? "download" : "upload");
    o.put("format", t.format);
    o.put("inactivity_timeout", s(t.inactivityTimeout));
    o.put("phase", t.phase);
    if (k != null) {
      o.put("proxy_url", sb.engineUrl() + "/images/" + k.uuid);
    }
    o.put("shallow", s(t.shallow));
    o.put("timeout_policy", t.timeoutPolicy);
    if (k != null) {
      o.put("transfer_url", sb.daemonUrl() + "/images/" + k.uuid);
    }
    o.put("transferred", s(k != null ? k.transferred() : t.transferred));
    o.set("host", ref("hosts", t.hostId));
    o.putObject("image").put("id", t.disk.id);
    String href = API + "/imagetransfers/" + t.id;
    actions(o, href, TRANSFER_ACTIONS);
    o.put("href", href);
    o.put("id", t.id);
    return o;
  }

  private Object[] transfers(Exchange ex, String[] seg, Map<String, String> extra) throws IOException {
    String method = ex.method();
    if (seg.length == 1) {
      if (method.equals("GET")) {
        List<ObjectNode> items = new ArrayList<>();
        synchronized (sb.lock) {
          for (Transfer t : sb.transfers.values()) {
            items.add(renderTransfer(t));
          }
        }
        return new Object[] {200, collection("image_transfer", limit(ex, items))};
      }
      requireMethod(method, "POST");
      return addTransfer(ex, extra);
    }
    String id = seg[1];
    if (!UUID_RE.matcher(id).matches() || seg.length > 3) {
      throw ApiException.notFound();
    }
    if (seg.length == 2) {
      requireMethod(method, "GET");
      synchronized (sb.lock) {
        Transfer t = sb.transfers.get(id);
        if (t == null) {
          throw ApiException.notFound();
        }
        return new Object[] {200, renderTransfer(t)};
      }
    }
    String action = seg[2];
    if (!TRANSFER_ACTIONS.contains(action)) {
      throw ApiException.notFound();
    }
    requireMethod(method, "POST");
    ex.readSmallBody(1 << 20); // the engine ignores the action body
    long now = System.nanoTime();
    synchronized (sb.lock) {
      Transfer t = sb.transfers.get(id);
      if (t != null && !t.finished()) {
        switch (action) {
          case "extend":
            t.lastUpdatedMillis = System.currentTimeMillis();
            break;
          case "pause":
            if (t.download) {
              throw ApiException.failed(400, "Cannot pause image download as it's handled by the "
                  + "client. Note that it can be canceled if you wish to stop it.");
            }
            sb.setPhase(t, "paused_user", now);
            break;
          case "resume":
            if (!t.paused()) {
              throw ApiException.failed(409, "Cannot resume image transfer as it's not in a paused state.");
            }
            sb.setPhase(t, "resuming", now);
            break;
          case "cancel":
            sb.setPhase(t, "cancelled_user", now);
            break;
          case "finalize":
            t.finalizeReady = false;
            sb.setPhase(t, "finalizing_success", now);
            break;
          default:
            throw ApiException.notFound();
        }
      }
    }
    if (async(ex)) {
      return new Object[] {202, null};
    }
    return new Object[] {200, obj().put("status", "complete")};
  }

  private Object[] addTransfer(Exchange ex, Map<String, String> extra) throws IOException {
    JsonNode n = readBody(ex, TRANSFER_PROPS, "imagetransfers/methods/add");
    String diskId = null;
    for (String f : List.of("disk", "image")) {
      JsonNode r = n.get(f);
      if (r != null && r.isObject() && text(r, "id") != null) {
        diskId = text(r, "id");
        break;
      }
    }
    if (diskId == null) {
      JsonNode snap = n.get("snapshot");
      JsonNode backup = n.get("backup");
      if (snap != null && snap.isObject() && text(snap, "id") != null) {
        throw ApiException.fault(404, "Operation Failed", "Entity not found: " + text(snap, "id"));
      }
      if (backup != null && backup.isObject() && text(backup, "id") != null) {
        throw ApiException.fault(404, "Operation Failed", "Entity not found: " + text(backup, "id"));
      }
      throw ApiException.fault(400, "Input validation failed.",
          "No matching signature found, make sure that mandatory attributes are provided.");
    }
    if (!UUID_RE.matcher(diskId).matches()) {
      throw ApiException.fault(400, "Invalid value", "'" + diskId + "' is not a valid UUID.");
    }
    String direction = enumValue(n, "direction", "ImageTransferDirection", List.of("download", "upload"));
    boolean download = "download".equals(direction);
    String format = enumValue(n, "format", "DiskFormat", List.of("cow", "raw"));
    Long timeout = number(n, "inactivity_timeout");
    if (timeout != null && (timeout < 0 || timeout > Integer.MAX_VALUE)) {
      throw ApiException.fault(400, "Invalid value", "'" + timeout + "' is not a valid inactivity timeout.");
    }
    String policy = enumValue(n, "timeout_policy", "ImageTransferTimeoutPolicy", List.of("cancel", "legacy", "pause"));
    Boolean shallow = bool(n, "shallow");
    String hostId = Sandbox.HOST_ID;
    JsonNode host = n.get("host");
    if (host != null && host.isObject()) {
      String hid = text(host, "id");
      String hname = text(host, "name");
      if (hid != null && !hid.equals(Sandbox.HOST_ID) || hid == null && hname != null && !hname.equals("host1")) {
        throw ApiException.fault(404, "Operation Failed", "Entity not found: " + (hid != null ? hid : hname));
      }
    }
    long now = System.nanoTime();
    synchronized (sb.lock) {
      Disk d = sb.disks.get(diskId.toLowerCase(Locale.ROOT));
      if (d == null) {
        throw ApiException.fault(404, "Operation Failed", "Entity not found: " + diskId);
      }
      if (sb.isLocked(d, now)) {
        throw ApiException.failed(409, "Cannot transfer Virtual Disk: The following disks are locked: "
            + d.name + ". Please try again in a few minutes.");
      }
      if ("illegal".equals(d.status)) {
        throw ApiException.failed(500, "Cannot transfer Virtual Disk: The following disks are in "
            + "ILLEGAL status: " + d.name + ".");
      }
      Transfer t = new Transfer(UUID.randomUUID().toString(), d, download,
          format == null ? d.format : format,
          timeout == null ? sb.config.defaultInactivityTimeoutSeconds() : timeout.intValue(),
          policy == null ? "legacy" : policy, shallow != null && shallow, hostId);
      t.lastUpdatedMillis = System.currentTimeMillis();
      d.status = "locked";
      d.lockHolder = t.id;
      sb.transfers.put(t.id, t);
      t.initPollsLeft = sb.config.initializingPolls();
      if (t.initPollsLeft > 0) {
        sb.setPhase(t, "initializing", now);
      } else {
        sb.startSession(t, now);
      }
      extra.put("location", sb.engineUrl() + API + "/imagetransfers/" + t.id);
      return new Object[] {201, renderTransfer(t)};
    }
  }

  // ---- output ----

  private void send(Exchange ex, int status, JsonNode body, Map<String, String> extra) throws IOException {
    Map<String, String> h = new LinkedHashMap<>();
    if (extra != null) {
      h.putAll(extra);
    }
    if (body == null) {
      ex.send(status, h, new byte[0]);
      return;
    }
    h.put("content-type", "application/json");
    ex.send(status, h, Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(body));
  }

  private static void sendText(Exchange ex, int status, String type, String text) throws IOException {
    Map<String, String> h = new LinkedHashMap<>();
    h.put("content-type", type);
    ex.send(status, h, (text + "\n").getBytes(StandardCharsets.UTF_8));
  }
}
