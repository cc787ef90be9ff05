package org.diskferry.glance;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Consumer;
import org.diskferry.config.SecretFiles;
import java.util.Map;
import org.diskferry.error.DiskferryException;

/**
 * Finds an OpenStack cloud the way openstacksdk does: {@code clouds.yaml} (or {@code .yml},
 * {@code .json}) in {@code OS_CLIENT_CONFIG_FILE}, {@code ./}, {@code ~/.config/openstack/} and
 * {@code /etc/openstack/}, the first file found wins; {@code secure.yaml} from the same places (or
 * {@code OS_CLIENT_SECURE_FILE}) is merged over it; the cloud named {@code envvars} is made of the
 * {@code OS_*} variables.
 */
public final class CloudsYaml {

  /** The name openstacksdk gives the cloud made of {@code OS_*} variables. */
  public static final String ENVVARS = "envvars";

  private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
  private static final String[] EXTENSIONS = {"yaml", "yml", "json"};

  private final Map<String, String> env;
  private final Path cwd;
  private final Path etc;

  /**
   * @param env the environment
   * @param cwd the directory searched first
   * @param etc the system directory ({@code /etc/openstack} in production)
   */
  public CloudsYaml(Map<String, String> env, Path cwd, Path etc) {
    this.env = env;
    this.cwd = cwd;
    this.etc = etc;
  }

  /** The production search path. */
  public static CloudsYaml fromEnvironment(Map<String, String> env) {
    return new CloudsYaml(env, Path.of("").toAbsolutePath(), Path.of("/etc/openstack"));
  }

  /** The directories searched, in order. */
  List<Path> directories() {
    List<Path> dirs = new ArrayList<>();
    dirs.add(cwd);
    String xdg = env.get("XDG_CONFIG_HOME");
    String home = env.getOrDefault("HOME", System.getProperty("user.home"));
    if (xdg != null && !xdg.isBlank()) {
      dirs.add(Path.of(xdg, "openstack"));
    } else if (home != null) {
      dirs.add(Path.of(home, ".config", "openstack"));
    }
    dirs.add(etc);
    return dirs;
  }

  private Path find(String base, String override) {
    String o = env.get(override);
    if (o != null && !o.isBlank()) {
      Path p = Path.of(o);
      if (!Files.isRegularFile(p)) {
        throw DiskferryException.badInput(override + " names " + p + ", which does not exist");
      }
      return p;
    }
    for (Path d : directories()) {
      for (String ext : EXTENSIONS) {
        Path p = d.resolve(base + "." + ext);
        if (Files.isRegularFile(p)) {
          return p;
        }
      }
    }
    return null;
  }

  /**
   * The cloud {@code name}.
   *
   * @throws DiskferryException BAD_INPUT when no clouds.yaml exists, the cloud is not in it (the
   *     message lists the ones that are), or the file cannot be read
   */
  public CloudConfig resolve(String name) {
    return resolve(name, w -> {});
  }

  /**
   * The cloud {@code name}; {@code warn} hears of a file holding its secret (password, application
   * credential secret, token) that its group or others can read.
   */
  public CloudConfig resolve(String name, Consumer<String> warn) {
    Path file = find("clouds", "OS_CLIENT_CONFIG_FILE");
    JsonNode cloud = null;
    if (file != null) {
      JsonNode clouds = read(file).path("clouds");
      cloud = clouds.get(name);
      if (cloud == null && !ENVVARS.equals(name)) {
        List<String> names = new ArrayList<>();
        clouds.fieldNames().forEachRemaining(names::add);
        throw DiskferryException.badInput(
            "cloud '" + name + "' is not in " + file + (names.isEmpty()
                ? " (it defines no clouds)"
                : "; clouds there: " + String.join(", ", names)));
      }
    }
    if (cloud == null && ENVVARS.equals(name)) {
      return fromVariables();
    }
    if (cloud == null) {
      throw DiskferryException.badInput(
          "no clouds.yaml found for cloud '" + name + "' (looked in " + searched()
              + "); set OS_CLIENT_CONFIG_FILE, or use --cloud envvars with OS_* variables");
    }
    if (!cloud.isObject()) {
      throw DiskferryException.badInput("cloud '" + name + "' in " + file + " is not a mapping");
    }
    ObjectNode merged = ((ObjectNode) cloud).deepCopy();
    String source = file.toString();
    warnIfSecretShared(file, cloud, warn);
    Path secure = find("secure", "OS_CLIENT_SECURE_FILE");
    if (secure != null) {
      JsonNode s = read(secure).path("clouds").get(name);
      if (s != null && s.isObject()) {
        warnIfSecretShared(secure, s, warn);
        merge(merged, (ObjectNode) s);
        source += " + " + secure;
      }
    }
    return fromNode(name, source, merged, file.getParent());
  }

  private static void warnIfSecretShared(Path file, JsonNode cloud, Consumer<String> warn) {
    JsonNode auth = cloud.path("auth");
    for (String key : new String[] {"password", "application_credential_secret", "token"}) {
      if (auth.hasNonNull(key)) {
        SecretFiles.warnIfShared(file, "a " + key.replace('_', ' '), warn);
        return;
      }
    }
  }

  private String searched() {
    List<String> out = new ArrayList<>();
    for (Path d : directories()) {
      out.add(d.resolve("clouds.yaml").toString());
    }
    return String.join(", ", out);
  }

  private static JsonNode read(Path file) {
    try {
      JsonNode n = YAML.readTree(file.toFile());
      return n == null ? YAML.createObjectNode() : n;
    } catch (IOException e) {
      String msg = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
      int nl = msg.indexOf('\n');
      String where = "";
      if (e instanceof com.fasterxml.jackson.core.JsonProcessingException p
          && p.getLocation() != null && p.getLocation().getLineNr() > 0) {
        where = " (line " + p.getLocation().getLineNr() + ", column "
            + p.getLocation().getColumnNr() + ")";
      }
      throw DiskferryException.badInput(
          "cannot read " + file + ": " + (nl > 0 ? msg.substring(0, nl) : msg) + where);
    }
  }

  private static void merge(ObjectNode into, ObjectNode from) {
    for (Map.Entry<String, JsonNode> e : from.properties()) {
      JsonNode mine = into.get(e.getKey());
      if (mine instanceof ObjectNode o && e.getValue() instanceof ObjectNode v) {
        merge(o, v);
      } else {
        into.set(e.getKey(), e.getValue());
      }
    }
  }

  private static String text(JsonNode n, String key) {
    JsonNode v = n.get(key);
    if (v == null || v.isNull() || v.isContainerNode()) {
      return null;
    }
    String s = v.asText();
    return s.isEmpty() ? null : s;
  }

  private static CloudConfig fromNode(String name, String source, JsonNode c, Path baseDir) {
    JsonNode a = c.path("auth");
    String verify = text(c, "verify");
    String cacert = text(c, "cacert");
    Path ca = null;
    if (cacert != null) {
      ca = Path.of(cacert.startsWith("~/") ? System.getProperty("user.home") + cacert.substring(1)
          : cacert);
      if (!ca.isAbsolute() && baseDir != null) {
        ca = baseDir.resolve(ca);
      }
    }
    String endpoint = text(c, "image_endpoint_override");
    if (endpoint == null) {
      endpoint = text(a, "endpoint");
    }
    return new CloudConfig(
        name,
        source,
        text(c, "auth_type"),
        text(a, "auth_url"),
        text(a, "username"),
        text(a, "user_id"),
        text(a, "password"),
        domain(text(a, "user_domain_name"), text(a, "user_domain_id"),
            text(a, "domain_name"), text(a, "domain_id")),
        text(a, "project_name") != null ? text(a, "project_name") : text(a, "tenant_name"),
        text(a, "project_id") != null ? text(a, "project_id") : text(a, "tenant_id"),
        domain(text(a, "project_domain_name"), text(a, "project_domain_id"),
            text(a, "domain_name"), text(a, "domain_id")),
        text(a, "application_credential_id"),
        text(a, "application_credential_name"),
        text(a, "application_credential_secret"),
        text(a, "token"),
        text(c, "region_name"),
        iface(text(c, "interface")),
        ca,
        verify == null || !verify.equalsIgnoreCase("false"),
        endpoint);
  }

  private static CloudConfig.Domain domain(String name, String id, String anyName, String anyId) {
    if (name != null || id != null) {
      return new CloudConfig.Domain(name, id);
    }
    if (anyName != null || anyId != null) {
      return new CloudConfig.Domain(anyName, anyId);
    }
    return CloudConfig.Domain.DEFAULT;
  }

  private static String iface(String s) {
    if (s == null) {
      return "public";
    }
    return s.endsWith("URL") ? s.substring(0, s.length() - 3) : s;
  }

  /** The {@code envvars} cloud: {@code OS_AUTH_URL}, {@code OS_USERNAME}, ... */
  CloudConfig fromVariables() {
    ObjectNode c = YAML.createObjectNode();
    ObjectNode a = c.putObject("auth");
    String[][] auth = {
      {"OS_AUTH_URL", "auth_url"}, {"OS_USERNAME", "username"}, {"OS_USER_ID", "user_id"},
      {"OS_PASSWORD", "password"}, {"OS_PROJECT_NAME", "project_name"},
      {"OS_TENANT_NAME", "tenant_name"}, {"OS_PROJECT_ID", "project_id"},
      {"OS_TENANT_ID", "tenant_id"}, {"OS_USER_DOMAIN_NAME", "user_domain_name"},
      {"OS_USER_DOMAIN_ID", "user_domain_id"}, {"OS_PROJECT_DOMAIN_NAME", "project_domain_name"},
      {"OS_PROJECT_DOMAIN_ID", "project_domain_id"}, {"OS_DOMAIN_NAME", "domain_name"},
      {"OS_APPLICATION_CREDENTIAL_ID", "application_credential_id"},
      {"OS_APPLICATION_CREDENTIAL_NAME", "application_credential_name"},
      {"OS_APPLICATION_CREDENTIAL_SECRET", "application_credential_secret"},
      {"OS_TOKEN", "token"}, {"OS_ENDPOINT", "endpoint"}
    };
    for (String[] m : auth) {
      put(a, m[1], env.get(m[0]));
    }
    put(c, "auth_type", env.get("OS_AUTH_TYPE"));
    put(c, "region_name", env.get("OS_REGION_NAME"));
    put(c, "interface", env.get("OS_INTERFACE"));
    put(c, "cacert", env.get("OS_CACERT"));
    put(c, "image_endpoint_override", env.get("OS_IMAGE_ENDPOINT_OVERRIDE"));
    if ("true".equalsIgnoreCase(env.get("OS_INSECURE"))) {
      c.put("verify", false);
    }
    if (a.get("auth_url") == null && c.get("image_endpoint_override") == null
        && a.get("endpoint") == null) {
      throw DiskferryException.badInput(
          "cloud 'envvars' needs OS_AUTH_URL (or OS_IMAGE_ENDPOINT_OVERRIDE with OS_AUTH_TYPE=none)");
    }
    return fromNode(ENVVARS, "OS_* variables", c, null);
  }

  private static void put(ObjectNode n, String key, String value) {
    if (value != null && !value.isEmpty()) {
      n.put(key, value);
    }
  }
}
