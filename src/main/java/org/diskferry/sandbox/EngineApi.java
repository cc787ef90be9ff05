package org.diskferry.sandbox;

import static org.diskferry.sandbox.ApiSupport.*;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.diskferry.http.Json;

/**
 * The engine side: SSO, pki-resource, authentication and the routing of the REST API subset
 * (oVirt engine 4.5) to one class per resource.
 */
final class EngineApi {
  private static final Logger LOG = Logger.getLogger(EngineApi.class.getName());
  private static final String UNAUTHORIZED_HTML =
      "<html><head><title>Error</title></head><body>Unauthorized</body></html>";

  private final Sandbox sb;
  private final DisksResource disks;
  private final StorageDomainsResource storageDomains;
  private final DataCentersResource dataCenters;
  private final HostsResource hosts = new HostsResource();
  private final ImageTransfersResource transfers;
  private final VmsResource vms;
  private final GuestWrites guestWrites;

  EngineApi(Sandbox sandbox) {
    this.sb = sandbox;
    this.disks = new DisksResource(sandbox);
    this.storageDomains = new StorageDomainsResource(sandbox, disks);
    this.dataCenters = new DataCentersResource(storageDomains);
    this.transfers = new ImageTransfersResource(sandbox);
    this.vms = new VmsResource(sandbox, disks);
    this.guestWrites = new GuestWrites(sandbox);
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
      } else if (path.startsWith(GuestWrites.PREFIX)) {
        if (authenticated(ex)) {
          guestWrites.handle(ex);
        } else {
          ex.closeAfter(); // the write's body is not read
          unauthorized(ex);
        }
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

  private static void unauthorized(Exchange ex) throws IOException {
    Map<String, String> h = new LinkedHashMap<>();
    h.put("www-authenticate", "Basic realm=\"RESTAPI\"");
    h.put("content-type", "text/html;charset=UTF-8");
    ex.send(401, h, UNAUTHORIZED_HTML.getBytes(StandardCharsets.UTF_8));
  }

  private void api(Exchange ex, String p) throws IOException {
    if (!authenticated(ex)) {
      unauthorized(ex);
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
      Reply r;
      switch (seg[0]) {
        case "storagedomains":
          requireMethod(method, "GET");
          r = new Reply(200, storageDomains.handle(ex, seg));
          break;
        case "datacenters":
          requireMethod(method, "GET");
          r = new Reply(200, dataCenters.handle(ex, seg));
          break;
        case "hosts":
          requireMethod(method, "GET");
          r = new Reply(200, hosts.handle(ex, seg));
          break;
        case "clusters":
          requireMethod(method, "GET");
          r = new Reply(200, dataCenters.clusters(seg));
          break;
        case "disks":
          r = disks.handle(ex, seg, extra);
          break;
        case "imagetransfers":
          r = transfers.handle(ex, seg, extra);
          break;
        case "vms":
          r = vms.handle(ex, seg, extra);
          break;
        default:
          throw ApiException.notFound();
      }
      status = r.status();
      result = r.body();
    }
    send(ex, status, result, extra);
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
    links(o, API, "clusters", "datacenters", "disks", "hosts", "imagetransfers", "storagedomains", "vms");
    return o;
  }
}
