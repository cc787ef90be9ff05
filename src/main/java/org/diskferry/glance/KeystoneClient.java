package org.diskferry.glance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import okhttp3.MediaType;
import okhttp3.OkHttpClient;
import okhttp3.Request;
import okhttp3.RequestBody;
import okhttp3.Response;
import org.diskferry.error.DiskferryException;
import org.diskferry.http.Json;

/**
 * Keystone v3: gets a token for a {@link CloudConfig} (password, application credential or token
 * auth) and finds the Image service in the token's catalog.
 */
public final class KeystoneClient {

  private static final MediaType JSON = MediaType.get("application/json");

  private final OkHttpClient http;
  private final CloudConfig cloud;

  public KeystoneClient(OkHttpClient http, CloudConfig cloud) {
    this.http = http;
    this.cloud = cloud;
  }

  /** A token (secret: never print it) and the Glance URL chosen from its catalog. */
  public record Token(String value, String imageEndpoint) {
    @Override
    public String toString() {
      return "Token[********, " + imageEndpoint + "]";
    }
  }

  /** {@code auth_url} with {@code /v3} added when it names no version. */
  static String v3(String authUrl) {
    String u = authUrl.replaceAll("/+$", "");
    return u.matches(".*/v3(\\.\\d+)?$") ? u : u + "/v3";
  }

  /**
   * Authenticates and picks the image endpoint (unless the cloud overrides it).
   *
   * @throws DiskferryException AUTH for refused credentials, NOT_FOUND when the catalog has no
   *     matching image endpoint, BAD_INPUT for an incomplete cloud entry, FAILED otherwise
   */
  public Token authenticate() {
    if (cloud.authUrl() == null) {
      throw DiskferryException.badInput(
          "cloud '" + cloud.name() + "' has no auth.auth_url (" + cloud.source() + ")");
    }
    String url = v3(cloud.authUrl()) + "/auth/tokens";
    byte[] body;
    try {
      body = Json.mapper().writeValueAsBytes(request());
    } catch (IOException e) {
      throw new IllegalStateException(e);
    }
    Request req =
        new Request.Builder()
            .url(url)
            .header("Accept", "application/json")
            .post(RequestBody.create(body, JSON))
            .build();
    try (Response resp = http.newCall(req).execute()) {
      String text = resp.body().string();
      if (resp.code() == 401 || resp.code() == 403) {
        throw DiskferryException.auth(
            "keystone at " + cloud.authUrl() + " refused the credentials of cloud '"
                + cloud.name() + "' (" + resp.code() + ": " + message(text)
                + "); check the " + cloud.method() + " settings in " + cloud.source());
      }
      if (resp.code() != 201 && resp.code() != 200) {
        throw DiskferryException.failed(
            "keystone at " + cloud.authUrl() + " answered " + resp.code() + " to a token request: "
                + message(text));
      }
      String token = resp.header("X-Subject-Token");
      if (token == null || token.isBlank()) {
        throw DiskferryException.failed(
            "keystone at " + cloud.authUrl() + " sent no X-Subject-Token header");
      }
      JsonNode t = Json.mapper().readTree(text).path("token");
      String endpoint =
          cloud.imageEndpointOverride() != null
              ? cloud.imageEndpointOverride()
              : imageEndpoint(t.path("catalog"));
      return new Token(token, endpoint);
    } catch (javax.net.ssl.SSLException e) {
      throw DiskferryException.auth(
          "TLS failure talking to keystone at " + cloud.authUrl() + ": " + e.getMessage()
              + " (set cacert in clouds.yaml, or --cacert FILE)");
    } catch (IOException e) {
      throw DiskferryException.failed(
          "cannot reach keystone at " + cloud.authUrl() + ": " + e.getMessage());
    }
  }

  /** The Keystone error message from a JSON error body, else the first 200 characters. */
  static String message(String body) {
    try {
      JsonNode n = Json.mapper().readTree(body);
      JsonNode m = n.path("error").path("message");
      if (m.isTextual()) {
        return m.asText();
      }
    } catch (IOException | RuntimeException e) {
      // not JSON
    }
    String s = body.replaceAll("\\s+", " ").trim();
    return s.length() > 200 ? s.substring(0, 200) + "..." : s;
  }

  private ObjectNode request() {
    ObjectNode root = Json.mapper().createObjectNode();
    ObjectNode auth = root.putObject("auth");
    ObjectNode identity = auth.putObject("identity");
    ArrayNode methods = identity.putArray("methods");
    switch (cloud.method()) {
      case "password" -> {
        if (cloud.password() == null) {
          throw DiskferryException.badInput(
              "cloud '" + cloud.name() + "' has no auth.password (" + cloud.source()
                  + "; secure.yaml or OS_PASSWORD can hold it)");
        }
        methods.add("password");
        ObjectNode user = identity.putObject("password").putObject("user");
        user(user);
        user.put("password", cloud.password());
        scope(auth);
      }
      case "application_credential" -> {
        if (cloud.appCredentialSecret() == null
            || (cloud.appCredentialId() == null && cloud.appCredentialName() == null)) {
          throw DiskferryException.badInput(
              "cloud '" + cloud.name() + "' needs application_credential_id (or _name) and"
                  + " application_credential_secret (" + cloud.source() + ")");
        }
        methods.add("application_credential");
        ObjectNode ac = identity.putObject("application_credential");
        if (cloud.appCredentialId() != null) {
          ac.put("id", cloud.appCredentialId());
        } else {
          ac.put("name", cloud.appCredentialName());
          user(ac.putObject("user"));
        }
        ac.put("secret", cloud.appCredentialSecret());
      }
      case "token" -> {
        if (cloud.token() == null) {
          throw DiskferryException.badInput(
              "cloud '" + cloud.name() + "' has auth_type token but no auth.token");
        }
        methods.add("token");
        identity.putObject("token").put("id", cloud.token());
        scope(auth);
      }
      default ->
          throw DiskferryException.badInput(
              "cloud '" + cloud.name() + "': auth_type '" + cloud.authType()
                  + "' is not supported (password, v3applicationcredential, token or none)");
    }
    return root;
  }

  private void user(ObjectNode user) {
    if (cloud.userId() != null) {
      user.put("id", cloud.userId());
      return;
    }
    if (cloud.username() == null) {
      throw DiskferryException.badInput(
          "cloud '" + cloud.name() + "' has no auth.username or auth.user_id (" + cloud.source()
              + ")");
    }
    user.put("name", cloud.username());
    domain(user, cloud.userDomain());
  }

  private void scope(ObjectNode auth) {
    if (cloud.projectId() != null) {
      auth.putObject("scope").putObject("project").put("id", cloud.projectId());
    } else if (cloud.projectName() != null) {
      ObjectNode p = auth.putObject("scope").putObject("project");
      p.put("name", cloud.projectName());
      domain(p, cloud.projectDomain());
    }
  }

  private static void domain(ObjectNode parent, CloudConfig.Domain d) {
    ObjectNode n = parent.putObject("domain");
    if (d.id() != null) {
      n.put("id", d.id());
    } else {
      n.put("name", d.name());
    }
  }

  /** The {@code image} endpoint of the wanted interface and region. */
  String imageEndpoint(JsonNode catalog) {
    String iface = cloud.endpointInterface() == null ? "public" : cloud.endpointInterface();
    String region = cloud.regionName();
    List<String> seen = new ArrayList<>();
    for (JsonNode svc : catalog) {
      if (!"image".equals(svc.path("type").asText())) {
        continue;
      }
      for (JsonNode ep : svc.path("endpoints")) {
        String epRegion = ep.hasNonNull("region_id") ? ep.path("region_id").asText()
            : ep.path("region").asText(null);
        String epIface = ep.path("interface").asText();
        seen.add(epIface + "@" + epRegion);
        if (epIface.equals(iface)
            && (region == null || region.equals(epRegion)
                || region.equals(ep.path("region").asText(null)))) {
          return ep.path("url").asText();
        }
      }
    }
    if (!catalog.isArray() || catalog.isEmpty()) {
      throw DiskferryException.notFound(
          "keystone gave cloud '" + cloud.name() + "' a token without a service catalog;"
              + " set project_name or project_id so the token is scoped to a project");
    }
    throw DiskferryException.notFound(
        "the service catalog of cloud '" + cloud.name() + "' has no image endpoint for interface "
            + iface + (region == null ? "" : " in region " + region)
            + (seen.isEmpty() ? " (no image service at all)" : "; it has: "
                + String.join(", ", seen)));
  }
}
