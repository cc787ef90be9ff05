package org.diskferry.sandbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import org.diskferry.cli.Main;
import org.diskferry.sandbox.FaultHook.Action;
import org.diskferry.sandbox.FaultSpec.Kind;
import org.diskferry.sandbox.FaultSpec.Rule;
import org.diskferry.sandbox.FaultSpec.Target;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class FaultSpecTest {

  @Test
  void parsesEachKindWithItsParameters() {
    FaultSpec s =
        FaultSpec.parse(
            "reset:after=1M:rate=0.1, status:code=500:rate=0.2:retry-after=3:on=put|api,"
                + "stall:ms=2000:rate=0.05:on=get,expire:after=3,pause:after=5,restart:after=7,"
                + "idle-close:ms=500,seed=42");
    List<Rule> r = s.rules();
    assertThat(r).extracting(Rule::kind).containsExactly(
        Kind.RESET, Kind.STATUS, Kind.STALL, Kind.EXPIRE, Kind.PAUSE, Kind.RESTART, Kind.IDLE_CLOSE);
    assertThat(r.get(0).bytes()).isEqualTo(1L << 20);
    assertThat(r.get(0).rate()).isEqualTo(0.1);
    assertThat(r.get(0).on()).containsExactlyInAnyOrder(Target.PUT, Target.GET, Target.PATCH, Target.OPTIONS);
    assertThat(r.get(1).code()).isEqualTo(500);
    assertThat(r.get(1).retryAfter()).isEqualTo(3);
    assertThat(r.get(1).on()).isEqualTo(EnumSet.of(Target.PUT, Target.API));
    assertThat(r.get(1).text()).isEqualTo("status:code=500:rate=0.2:retry-after=3:on=put|api");
    assertThat(r.get(2).millis()).isEqualTo(2000);
    assertThat(r.get(2).on()).isEqualTo(EnumSet.of(Target.GET));
    assertThat(r.get(3).after()).isEqualTo(3);
    assertThat(r.get(4).after()).isEqualTo(5);
    assertThat(r.get(5).after()).isEqualTo(7);
    assertThat(r.get(6).millis()).isEqualTo(500);
    assertThat(s.seed()).isEqualTo(42);
    assertThat(s.seedGiven()).isTrue();
  }

  @Test
  void defaultsAndSizes() {
    FaultSpec s = FaultSpec.parse("reset,status,reset:after=64k,reset:after=2G,reset:after=4096");
    assertThat(s.rules().get(0).bytes()).isZero();
    assertThat(s.rules().get(0).rate()).isEqualTo(1.0);
    assertThat(s.rules().get(1).code()).isEqualTo(503);
    assertThat(s.rules().get(1).retryAfter()).isEqualTo(-1);
    assertThat(s.rules().get(2).bytes()).isEqualTo(64 * 1024);
    assertThat(s.rules().get(3).bytes()).isEqualTo(2L << 30);
    assertThat(s.rules().get(4).bytes()).isEqualTo(4096);
    assertThat(s.seedGiven()).isFalse();
    assertThat(s.toString()).startsWith("reset,status,").contains(",seed=" + s.seed());
  }

  @ParameterizedTest
  @CsvSource(
      delimiter = ';',
      quoteCharacter = '"',
      value = {
        "bogus;                            'bogus': unknown kind 'bogus'",
        "reset:after=1X;                   'reset:after=1X': after must be a size",
        "reset:after=;                     'reset:after=': expected PARAM=VALUE",
        "reset:rate;                       'reset:rate': expected PARAM=VALUE",
        "reset:rate=1.5;                   'reset:rate=1.5': rate must be a number from 0 to 1",
        "reset:rate=-0.1;                  'reset:rate=-0.1': rate must be a number from 0 to 1",
        "reset:after=1:after=2;            'reset:after=1:after=2': 'after' given twice",
        "status:code=200;                  'status:code=200': code must be between 400 and 599",
        "status:code=5x;                   'status:code=5x': code must be an integer",
        "status:on=delete;                 'status:on=delete': on takes put, get, patch, options, api and backup",
        "status:on=put||get;               'status:on=put||get': on takes",
        "status:ms=5;                      'status:ms=5': status has no parameter 'ms'",
        "stall;                            'stall': stall needs ms=N",
        "stall:ms=0;                       'stall:ms=0': ms must be between 1 and",
        "expire;                           'expire': expire needs after=N",
        "expire:after=0;                   'expire:after=0': after must be between 1 and",
        "pause:after=1:rate=0.5;           'pause:after=1:rate=0.5': pause has no parameter 'rate'",
        "restart:on=put;                   'restart:on=put': restart has no parameter 'on'",
        "idle-close:ms=1,idle-close:ms=2;  'idle-close:ms=2': idle-close given twice",
        "seed=abc;                         'seed=abc': seed must be an integer",
        "seed=1,seed=2,reset;              'seed=2': seed given twice",
        "seed=1;                           fault spec 'seed=1' has no rules",
        "reset,,stall:ms=1;              empty rule in fault spec 'reset,,stall:ms=1'",
        "reset,;                           empty rule in fault spec 'reset,'",
        "\"  \";                          empty fault spec",
      })
  void badSpecsNameTheRule(String spec, String message) {
    assertThatThrownBy(() -> FaultSpec.parse(spec))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining(message.strip())
        .satisfies(e -> assertThat(e.getMessage()).doesNotContain("\n"));
  }

  static final List<FaultHook.Request> REQUESTS = requests();

  static List<FaultHook.Request> requests() {
    String[] methods = {"PUT", "GET", "PATCH", "OPTIONS", "PUT", "PUT", "GET"};
    List<FaultHook.Request> l = new ArrayList<>();
    for (int i = 0; i < 2000; i++) {
      if (i % 9 == 0) {
        l.add(new FaultHook.Request("engine", "GET", "/ovirt-engine/api/disks", Map.of()));
      } else {
        l.add(new FaultHook.Request("daemon", methods[i % methods.length], "/images/t" + (i % 4), Map.of()));
      }
    }
    return l;
  }

  static List<String> decisions(FaultSpec spec) {
    FaultSpec.Injector hook = spec.toHook(null);
    List<String> out = new ArrayList<>();
    for (FaultHook.Request r : REQUESTS) {
      Action a = hook.onRequest(r);
      out.add(a == null ? "-" : a.kind() + "/" + a.status() + "/" + a.afterBytes() + "/" + a.delay().toMillis());
    }
    return out;
  }

  @Test
  void sameSeedSameDecisions() {
    String text = "status:code=503:rate=0.3:retry-after=1,reset:after=1K:rate=0.2,stall:ms=5:rate=0.1:on=get|api";
    List<String> a = decisions(FaultSpec.parse(text + ",seed=42"));
    List<String> b = decisions(FaultSpec.parse(text + ",seed=42"));
    assertThat(a).isEqualTo(b);
    assertThat(decisions(FaultSpec.parse(text + ",seed=43"))).isNotEqualTo(a);
    // the printed spec replays a random seed's decisions
    FaultSpec random = FaultSpec.parse(text);
    assertThat(decisions(FaultSpec.parse(random.toString()))).isEqualTo(decisions(random));

    long status = a.stream().filter(s -> s.startsWith("RESPOND/503")).count();
    long dataPlane = REQUESTS.stream().filter(FaultHook.Request::dataPlane).count();
    assertThat((double) status / dataPlane).isBetween(0.25, 0.35);
    assertThat(a).anyMatch(s -> s.equals("RESET/0/1024/0"));
    assertThat(a).anyMatch(s -> s.equals("STALL/0/0/5"));
    // the API is only touched by the rule that names it
    for (int i = 0; i < REQUESTS.size(); i++) {
      if (!REQUESTS.get(i).dataPlane()) {
        assertThat(a.get(i)).isIn("-", "STALL/0/0/5");
      }
    }
  }

  @Test
  void countsPerRuleAndKind() {
    FaultSpec.Injector hook =
        FaultSpec.parse("status:code=500:on=put,status:code=502:on=get,stall:ms=1:rate=0,seed=1").toHook(null);
    for (FaultHook.Request r : REQUESTS) {
      hook.onRequest(r);
    }
    long puts = REQUESTS.stream().filter(r -> r.dataPlane() && r.method().equals("PUT")).count();
    long gets = REQUESTS.stream().filter(r -> r.dataPlane() && r.method().equals("GET")).count();
    assertThat(hook.injected(Kind.STATUS)).isEqualTo(puts + gets);
    assertThat(hook.injected(Kind.STALL)).isZero();
    assertThat(hook.injected()).isEqualTo(puts + gets);
    assertThat(hook.counts()).containsExactly(
        Map.entry("status:code=500:on=put", puts),
        Map.entry("status:code=502:on=get", gets),
        Map.entry("stall:ms=1:rate=0", 0L));
    Action a = FaultSpec.parse("status:retry-after=2").toHook(null).onRequest(REQUESTS.get(1));
    assertThat(a.headers()).containsEntry("retry-after", "2");
    assertThat(a.delay()).isEqualTo(Duration.ZERO);
  }

  @Test
  void commandRejectsBadSpecWithExit2(@TempDir Path home) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Map<String, String> env = Map.of("HOME", home.toString(), "XDG_CONFIG_HOME", home.toString());
    int code;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      code = Main.run(o, e, env, "sandbox", "--plain-http", "--faults", "reset:after=1M,stal:ms=1");
    }
    assertThat(code).isEqualTo(2);
    assertThat(out.toString(StandardCharsets.UTF_8)).isEmpty();
    assertThat(err.toString(StandardCharsets.UTF_8))
        .isEqualTo("diskferry: error: --faults: bad fault rule 'stal:ms=1': unknown kind 'stal'"
            + " (expected reset, status, stall, expire, pause, lose-ticket, restart, idle-close or seed=N)\n");
  }

  @Test
  void commandPrintsTheSpecWithItsSeed(@TempDir Path home) {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    Map<String, String> env = Map.of("HOME", home.toString(), "XDG_CONFIG_HOME", home.toString());
    int code;
    try (PrintStream o = new PrintStream(out, true, StandardCharsets.UTF_8);
        PrintStream e = new PrintStream(err, true, StandardCharsets.UTF_8)) {
      code = Main.run(o, e, env, "sandbox", "--plain-http", "--data-dir", home.resolve("d").toString(),
          "--faults", "stall:ms=10:rate=0.5");
    }
    assertThat(code).isEqualTo(0);
    assertThat(out.toString(StandardCharsets.UTF_8)).contains("DISKFERRY_ENGINE_URL=http://127.0.0.1:");
    assertThat(err.toString(StandardCharsets.UTF_8))
        .matches("diskferry: sandbox faults: stall:ms=10:rate=0\\.5,seed=\\d+\n");
  }
}
