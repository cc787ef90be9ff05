package org.diskferry.ovirt;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.delete;
import static com.github.tomakehurst.wiremock.client.WireMock.deleteRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.http.Fault;
import com.github.tomakehurst.wiremock.stubbing.Scenario;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.diskferry.error.DiskferryException;
import org.diskferry.error.DiskferryException.Kind;
import org.diskferry.transfer.RetryPolicy;
import org.junit.jupiter.api.Test;

/** Engine requests tried again after 5xx answers and dropped connections, and which are not. */
class EngineClientRetryTest extends EngineTestSupport {

  /** Three tries, a millisecond apart. */
  static final RetryPolicy FAST = new RetryPolicy(3, 100, Duration.ofMillis(1), Duration.ofMillis(1));

  private static final String DISK =
      "{\"id\":\"d1\",\"name\":\"x\",\"status\":\"ok\",\"provisioned_size\":\"1048576\"}";

  private final List<String> retried = new ArrayList<>();

  private EngineClient fastClient() {
    return login().retries(FAST, (what, attempt, cause) -> retried.add(what + " #" + attempt));
  }

  /** The first answer of this GET is {@code first}, then the disk. */
  private void stubGetDiskFailingOnce(
      com.github.tomakehurst.wiremock.client.ResponseDefinitionBuilder first) {
    wm.stubFor(get(urlEqualTo(API + "/disks/d1")).inScenario("once")
        .whenScenarioStateIs(Scenario.STARTED).willReturn(first).willSetStateTo("ok"));
    wm.stubFor(get(urlEqualTo(API + "/disks/d1")).inScenario("once")
        .whenScenarioStateIs("ok").willReturn(okJson(DISK)));
  }

  @Test
  void aGetAnswered503IsTriedAgain() {
    fastClient();
    stubGetDiskFailingOnce(aResponse().withStatus(503));
    assertThat(client.disk("d1").status()).isEqualTo("ok");
    wm.verify(2, getRequestedFor(urlEqualTo(API + "/disks/d1")));
    assertThat(retried).containsExactly("get disk d1 #1");
  }

  @Test
  void aGetWhoseConnectionIsResetIsTriedAgain() {
    fastClient();
    stubGetDiskFailingOnce(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER));
    assertThat(client.findDisk("d1")).isPresent();
    wm.verify(2, getRequestedFor(urlEqualTo(API + "/disks/d1")));
  }

  @Test
  void aGetThatKeepsFailingEndsWithTheLastAnswerAfterTheTriesOfThePolicy() {
    fastClient();
    wm.stubFor(get(urlEqualTo(API + "/disks/d1")).willReturn(aResponse().withStatus(502)));
    DiskferryException e = EngineClientErrorsTest.thrown(() -> client.disk("d1"));
    assertThat(e.kind()).isEqualTo(Kind.FAILED);
    assertThat(e.getMessage()).isEqualTo("engine error: cannot get disk d1 (HTTP 502)");
    wm.verify(3, getRequestedFor(urlEqualTo(API + "/disks/d1")));
  }

  @Test
  void transferActionsAndDeletesAreTriedAgain() {
    fastClient();
    wm.stubFor(post(urlEqualTo(API + "/imagetransfers/t1/finalize")).inScenario("fin")
        .whenScenarioStateIs(Scenario.STARTED).willReturn(aResponse().withStatus(500))
        .willSetStateTo("ok"));
    wm.stubFor(post(urlEqualTo(API + "/imagetransfers/t1/finalize")).inScenario("fin")
        .whenScenarioStateIs("ok").willReturn(okJson("{}")));
    client.finalizeTransfer("t1");
    wm.verify(2, postRequestedFor(urlEqualTo(API + "/imagetransfers/t1/finalize")));

    wm.stubFor(delete(urlEqualTo(API + "/disks/d1")).inScenario("del")
        .whenScenarioStateIs(Scenario.STARTED)
        .willReturn(aResponse().withFault(Fault.CONNECTION_RESET_BY_PEER)).willSetStateTo("ok"));
    wm.stubFor(delete(urlEqualTo(API + "/disks/d1")).inScenario("del")
        .whenScenarioStateIs("ok").willReturn(okJson("{}")));
    client.deleteDisk("d1");
    wm.verify(2, deleteRequestedFor(urlEqualTo(API + "/disks/d1")));
  }

  @Test
  void aCreateIsNotRepeatedAfterA500ButIsAfterA503() {
    fastClient();
    DiskSpec spec = new DiskSpec("x", "d", "data", "raw", true, 1 << 20, null, "data", null);
    wm.stubFor(post(urlEqualTo(API + "/disks")).willReturn(aResponse().withStatus(500)));
    assertThat(EngineClientErrorsTest.thrown(() -> client.createDisk(spec)).kind())
        .isEqualTo(Kind.FAILED);
    wm.verify(1, postRequestedFor(urlEqualTo(API + "/disks")));

    // 503: the engine (or the proxy before it) did not take the request.
    wm.resetRequests();
    wm.stubFor(post(urlEqualTo(API + "/disks")).inScenario("create")
        .whenScenarioStateIs(Scenario.STARTED).willReturn(aResponse().withStatus(503))
        .willSetStateTo("ok"));
    wm.stubFor(post(urlEqualTo(API + "/disks")).inScenario("create")
        .whenScenarioStateIs("ok").willReturn(json(201, DISK)));
    assertThat(client.createDisk(spec).id()).isEqualTo("d1");
    wm.verify(2, postRequestedFor(urlEqualTo(API + "/disks")));
  }

  @Test
  void withoutRetriesTheFirstFailureEnds() {
    login().retries(RetryPolicy.NONE, null);
    wm.stubFor(get(urlEqualTo(API + "/disks/d1")).willReturn(aResponse().withStatus(503)));
    assertThat(EngineClientErrorsTest.thrown(() -> client.disk("d1")).getMessage())
        .isEqualTo("engine error: cannot get disk d1 (HTTP 503)");
    wm.verify(1, getRequestedFor(urlEqualTo(API + "/disks/d1")));
  }
}
