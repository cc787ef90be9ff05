package org.diskferry.sandbox;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.diskferry.http.Json;

/** What the engine API's resources share: rendering, request parsing, search, output. */
final class ApiSupport {
  static final String API = "/ovirt-engine/api";
  static final Pattern UUID_RE =
      Pattern.compile("[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}");

  private ApiSupport() {}

  /** A resource's answer: status and JSON body (null: no body). */
  record Reply(int status, JsonNode body) {}

  static void requireMethod(String method, String allowed) {
    if (!method.equals(allowed)) {
      throw new ApiException(405, null);
    }
  }

  static boolean async(Exchange ex) {
    String expect = ex.header("expect");
    return bool(ex.query("async"), false) || (expect != null && expect.contains("202-accepted"));
  }

  static boolean wantsCreated(Exchange ex) {
    String e = ex.header("expect");
    String x = ex.header("x-ovirt-expect");
    return (e != null && e.contains("201-created")) || (x != null && x.contains("201-created"));
  }

  // ---- rendering helpers ----

  static ObjectNode obj() {
    return Json.mapper().createObjectNode();
  }

  static ObjectNode ref(String collection, String id) {
    ObjectNode o = obj();
    o.put("href", API + "/" + collection + "/" + id);
    o.put("id", id);
    return o;
  }

  static void links(ObjectNode o, String base, String... rels) {
    ArrayNode a = o.putArray("link");
    for (String r : rels) {
      a.addObject().put("href", base + "/" + r).put("rel", r);
    }
  }

  static void actions(ObjectNode o, String base, List<String> rels) {
    ArrayNode a = o.putObject("actions").putArray("link");
    for (String r : rels) {
      a.addObject().put("href", base + "/" + r).put("rel", r);
    }
  }

  /** {@code {"<singular>":[...]}}, or {@code {}} when empty. */
  static ObjectNode collection(String singular, List<ObjectNode> items) {
    ObjectNode o = obj();
    if (!items.isEmpty()) {
      ArrayNode a = o.putArray(singular);
      items.forEach(a::add);
    }
    return o;
  }

  static String s(long v) {
    return Long.toString(v);
  }

  static String s(boolean v) {
    return Boolean.toString(v);
  }

  // ---- search ----

  /** Clauses of an engine search: {key, value, operator}. */
  static List<String[]> parseSearch(String search) {
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

  static boolean caseSensitive(Exchange ex) {
    return bool(ex.query("case_sensitive"), true);
  }

  static boolean matches(Exchange ex, Map<String, String> fields) {
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

  static List<ObjectNode> limit(Exchange ex, List<ObjectNode> items) {
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

  static JsonNode readBody(Sandbox sb, Exchange ex, Set<String> allowed, String usage) throws IOException {
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

  static String text(JsonNode n, String field) {
    JsonNode v = n.get(field);
    if (v == null || v.isNull()) {
      return null;
    }
    if (!v.isValueNode()) {
      throw ApiException.fault(400, "Request syntactically incorrect.", "Field '" + field + "' must be a value");
    }
    return v.asText();
  }

  static Long number(JsonNode n, String field) {
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

  static Boolean bool(JsonNode n, String field) {
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

  static String enumValue(JsonNode n, String field, String type, List<String> values) {
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

  // ---- output ----

  static void send(Exchange ex, int status, JsonNode body, Map<String, String> extra) throws IOException {
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

  static void sendText(Exchange ex, int status, String type, String text) throws IOException {
    Map<String, String> h = new LinkedHashMap<>();
    h.put("content-type", type);
    ex.send(status, h, (text + "\n").getBytes(StandardCharsets.UTF_8));
  }
}
