package org.diskferry.cli.progress;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.net.ConnectException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class JsonLinesProgressTest {

  static final long MIB = 1L << 20;
  final ObjectMapper mapper = new ObjectMapper();
  final Capture err = new Capture();
  final FakeClock clock = new FakeClock();

  JsonLinesProgress json(boolean verbose) {
    return new JsonLinesProgress(err.stream, verbose, Duration.ofSeconds(1), clock);
  }

  List<JsonNode> events() throws Exception {
    List<JsonNode> nodes = new ArrayList<>();
    for (String line : err.lines()) {
      JsonNode node = mapper.readTree(line);
      assertThat(node.isObject()).as(line).isTrue();
      nodes.add(node);
    }
    return nodes;
  }

  static List<String> types(List<JsonNode> nodes) {
    return nodes.stream().map(n -> n.get("event").asText()).toList();
  }

  @Test
  void documentedFieldsAndThrottling() throws Exception {
    JsonLinesProgress p = json(false);
    clock.advanceSeconds(0.25);
    p.phase("uploading");
    for (int i = 0; i <= 40; i++) { // 4 s in steps of 0.1 s
      p.progress(i * 10 * MIB, 400 * MIB);
      clock.advanceSeconds(0.1);
    }
    p.phase("finalizing transfer");
    p.close();

    List<JsonNode> nodes = events();
    assertThat(types(nodes))
        .containsExactly(
            "phase", "progress", "progress", "progress", "progress", "progress", "phase");

    JsonNode phase = nodes.get(0);
    assertThat(phase.get("phase").asText()).isEqualTo("uploading");
    assertThat(phase.get("elapsed").isNumber()).isTrue();
    assertThat(phase.get("elapsed").asDouble()).isEqualTo(0.25);

    JsonNode first = nodes.get(1);
    assertThat(first.get("transferred").asLong()).isZero();
    assertThat(first.get("size").asLong()).isEqualTo(400 * MIB);
    assertThat(first.get("phase").asText()).isEqualTo("uploading");
    assertThat(first.get("elapsed").asDouble()).isEqualTo(0.25);
    assertThat(first.fieldNames())
        .toIterable()
        .containsExactly("event", "transferred", "size", "elapsed", "phase");

    JsonNode last = nodes.get(5);
    assertThat(last.get("transferred").asLong()).isEqualTo(400 * MIB);
    assertThat(last.get("elapsed").asDouble()).isEqualTo(4.25);

    // the elapsed field has millisecond precision, as "S.sss"
    assertThat(err.lines().get(1)).contains("\"elapsed\":0.250");
  }

  @Test
  void heldBackProgressIsWrittenBeforeThePhaseChange() throws Exception {
    JsonLinesProgress p = json(false);
    p.phase("downloading");
    p.progress(0, 100 * MIB);
    clock.advanceSeconds(0.5);
    p.progress(30 * MIB, 100 * MIB); // held back by the throttle
    p.phase("failed");

    List<JsonNode> nodes = events();
    assertThat(types(nodes)).containsExactly("phase", "progress", "progress", "phase");
    assertThat(nodes.get(2).get("transferred").asLong()).isEqualTo(30 * MIB);
    assertThat(nodes.get(2).get("phase").asText()).isEqualTo("downloading");
  }

  @Test
  void finalHundredPercentOnlyOnce() throws Exception {
    JsonLinesProgress p = json(false);
    p.progress(0, 10);
    p.progress(10, 10);
    p.progress(10, 10);
    p.close();

    List<JsonNode> nodes = events();
    assertThat(types(nodes)).containsExactly("progress", "progress");
    assertThat(nodes.get(0).has("phase")).isFalse();
    assertThat(nodes.get(1).get("transferred").asLong()).isEqualTo(10);
  }

  @Test
  void warningRetryAndInfo() throws Exception {
    JsonLinesProgress p = json(false);
    p.warn("disk \"x\" is \nlocked");
    p.retry("PUT range 0-1023", 3, new ConnectException("Connection refused"));
    p.info("not shown without -v");

    List<JsonNode> nodes = events();
    assertThat(types(nodes)).containsExactly("warning", "retry");
    assertThat(nodes.get(0).get("message").asText()).isEqualTo("disk \"x\" is locked");
    JsonNode retry = nodes.get(1);
    assertThat(retry.get("what").asText()).isEqualTo("PUT range 0-1023");
    assertThat(retry.get("attempt").asInt()).isEqualTo(3);
    assertThat(retry.get("error").asText()).isEqualTo("ConnectException: Connection refused");

    Capture verboseErr = new Capture();
    new JsonLinesProgress(verboseErr.stream, true).info("engine 4.5");
    assertThat(mapper.readTree(verboseErr.lines().get(0)).get("event").asText()).isEqualTo("info");
  }
}
