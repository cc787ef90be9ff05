package org.diskferry.ovirt;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.delete;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.getRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.github.tomakehurst.wiremock.stubbing.Scenario;
import java.time.Duration;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.diskferry.error.DiskferryException;
import org.diskferry.error.DiskferryException.Kind;
import org.junit.jupiter.api.Test;

class EngineClientErrorsTest extends EngineTestSupport {

  static DiskferryException thrown(ThrowingCallable call) {
    Throwable[] caught = new Throwable[1];
    assertThatThrownBy(() -> {
          try {
            call.call();
          } catch (Throwable t) {
            caught[0] = t;
            throw t;
          }
        })
        .isInstanceOf(DiskferryException.class);
    DiskferryException e = (DiskferryException) caught[0];
    assertThat(e.getMessage()).doesNotContain("\n").doesNotContain(TOKEN).doesNotContain("secret");
    return e;
  }

  @Test
  void badRequestIsFailedWithTheFaultText() {
    login();
    wm.stubFor(
        post(urlEqualTo(API + "/imagetransfers/t1/pause"))
            .willReturn(
                json(400, "{\"reason\":\"Operation Failed\",\"detail\":\"[Cannot pause image"
                    + " download as it's handled by the client.]\"}")));
    DiskferryException e = thrown(() -> client.pauseTransfer("t1"));
    assertThat(e.kind()).isEqualTo(Kind.FAILED);
    assertThat(e.getMessage())
        .isEqualTo(
            "cannot pause image transfer t1: Cannot pause image download as it's handled by the"
                + " client.");
  }

  @Test
  void syntaxFaultKeepsTheReason() {
    login();
    wm.stubFor(
        post(urlEqualTo(API + "/disks"))
            .willReturn(
                json(400, "{\"reason\":\"Request syntactically incorrect.\",\"detail\":\"For"
                    + " correct usage, see:\\nhttps://engine/ovirt-engine/apidoc#services/disks\"}")));
    DiskferryException e =
        thrown(() -> client.createDisk(
            new DiskSpec("d", null, "sd", "raw", true, 1024, null, "data", null)));
    assertThat(e.kind()).isEqualTo(Kind.FAILED);
    assertThat(e.getMessage())
        .isEqualTo(
            "cannot create disk 'd': Request syntactically incorrect: For correct usage, see:"
                + " https://engine/ovirt-engine/apidoc#services/disks");
  }

  @Test
  void notFoundWithEmptyBodyNamesTheEntity() {
    login();
    wm.stubFor(get(urlEqualTo(API + "/disks/nope")).willReturn(aResponse().withStatus(404)));
    wm.stubFor(get(urlEqualTo(API + "/imagetransfers/gone")).willReturn(aResponse().withStatus(404)));
    DiskferryException e = thrown(() -> client.disk("nope"));
    assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND);
    assertThat(e.getMessage()).isEqualTo("disk nope not found");
    assertThat(client.findDisk("nope")).isEmpty();
    assertThat(client.findTransfer("gone")).isEmpty();
    DiskferryException t = thrown(() -> client.transfer("gone"));
    assertThat(t.kind()).isEqualTo(Kind.NOT_FOUND);
    assertThat(t.getMessage()).isEqualTo("image transfer gone not found");
  }

  @Test
  void conflictStripsTheBracketsOfTheDetail() {
    login();
    wm.stubFor(
        delete(urlEqualTo(API + "/disks/d1"))
            .willReturn(
                json(409, "{\"reason\":\"Operation Failed\",\"detail\":\"[Cannot remove Virtual"
                    + " Disk: The following disks are locked: mydisk. Please try again in a few"
                    + " minutes.]\"}")));
    DiskferryException e = thrown(() -> client.deleteDisk("d1"));
    assertThat(e.kind()).isEqualTo(Kind.CONFLICT);
    assertThat(e.getMessage())
        .isEqualTo(
            "cannot delete disk d1: Cannot remove Virtual Disk: The following disks are locked:"
                + " mydisk. Please try again in a few minutes.");
  }

  @Test
  void deleteMissingDiskIsNotFound() {
    login();
    wm.stubFor(delete(urlEqualTo(API + "/disks/d1")).willReturn(aResponse().withStatus(404)));
    assertThat(thrown(() -> client.deleteDisk("d1")).kind()).isEqualTo(Kind.NOT_FOUND);
  }

  @Test
  void serverErrorIsFailedEngineError() {
    login();
    wm.stubFor(
        post(urlEqualTo(API + "/imagetransfers"))
            .willReturn(
                json(500, "{\"reason\":\"Operation Failed\",\"detail\":\"[Cannot transfer"
                    + " Virtual Disk: The following disks are in ILLEGAL status: d.]\"}")));
    wm.stubFor(
        get(urlEqualTo(API + "/disks"))
            .willReturn(aResponse().withStatus(503).withBody("<html><body>\nProxy\nError</body></html>")));
    DiskferryException e =
        thrown(() -> client.createTransfer(new TransferSpec("d1", "upload", null, null, null)));
    assertThat(e.kind()).isEqualTo(Kind.FAILED);
    assertThat(e.getMessage())
        .isEqualTo(
            "engine error: cannot start an image upload of disk d1: Cannot transfer Virtual Disk:"
                + " The following disks are in ILLEGAL status: d.");
    client.retries(EngineClientRetryTest.FAST, null);
    DiskferryException html = thrown(() -> client.disks());
    assertThat(html.kind()).isEqualTo(Kind.FAILED);
    assertThat(html.getMessage()).isEqualTo("engine error: cannot list disks (HTTP 503)");
  }

  @Test
  void forbiddenIsAuth() {
    login();
    wm.stubFor(
        get(urlEqualTo(API + "/disks/d1"))
            .willReturn(json(403, "{\"reason\":\"Operation Failed\",\"detail\":\"[User is not"
                + " authorized to perform this action.]\"}")));
    DiskferryException e = thrown(() -> client.disk("d1"));
    assertThat(e.kind()).isEqualTo(Kind.AUTH);
    assertThat(e.getMessage())
        .isEqualTo("not authorized to get disk d1: User is not authorized to perform this action.");
  }

  @Test
  void storageDomainSearchNeedsAnExactMatch() {
    login();
    wm.stubFor(
        get(urlEqualTo(API + "/storagedomains?search=name%3Dnfs&case_sensitive=true"))
            .willReturn(okJson("{\"storage_domain\":[{\"id\":\"a\",\"name\":\"nfs2\"},"
                + "{\"id\":\"b\",\"name\":\"NFS\"}]}")));
    wm.stubFor(
        get(urlEqualTo(API + "/storagedomains?search=name%3Dnone&case_sensitive=true"))
            .willReturn(okJson("{}")));
    DiskferryException e = thrown(() -> client.storageDomain("nfs"));
    assertThat(e.kind()).isEqualTo(Kind.NOT_FOUND);
    assertThat(e.getMessage()).isEqualTo("storage domain 'nfs' not found");
    assertThat(thrown(() -> client.storageDomain("none")).kind()).isEqualTo(Kind.NOT_FOUND);
  }

  @Test
  void storageDomainFoundByExactName() {
    login();
    wm.stubFor(
        get(urlEqualTo(API + "/storagedomains?search=name%3Dnfs&case_sensitive=true"))
            .willReturn(okJson("{\"storage_domain\":[{\"id\":\"a\",\"name\":\"nfs2\"},"
                + "{\"id\":\"b\",\"name\":\"nfs\",\"type\":\"data\",\"storage\":{\"type\":\"nfs\"}}]}")));
    assertThat(client.storageDomain("nfs")).isEqualTo(new StorageDomain("b", "nfs", "data", "nfs"));
  }

  @Test
  void disksByNameFiltersExactly() {
    login();
    wm.stubFor(
        get(urlEqualTo(API + "/disks?search=name%3Dvm1&case_sensitive=true"))
            .willReturn(okJson("{\"disk\":[{\"id\":\"a\",\"name\":\"vm1\"},{\"id\":\"b\",\"name\":\"vm10\"},"
                + "{\"id\":\"c\",\"alias\":\"vm1\"}]}")));
    assertThat(client.disksByName("vm1")).extracting(Disk::id).containsExactly("a", "c");
  }

  @Test
  void waitForDiskOkPollsUntilOk() {
    login();
    String locked = "{\"id\":\"d1\",\"status\":\"locked\",\"provisioned_size\":\"1024\"}";
    wm.stubFor(get(urlEqualTo(API + "/disks/d1")).inScenario("disk")
        .whenScenarioStateIs(Scenario.STARTED).willReturn(okJson(locked)).willSetStateTo("2"));
    wm.stubFor(get(urlEqualTo(API + "/disks/d1")).inScenario("disk")
        .whenScenarioStateIs("2").willReturn(okJson(locked)).willSetStateTo("3"));
    wm.stubFor(get(urlEqualTo(API + "/disks/d1")).inScenario("disk")
        .whenScenarioStateIs("3")
        .willReturn(okJson("{\"id\":\"d1\",\"status\":\"ok\",\"provisioned_size\":\"1024\"}")));
    Disk d = client.waitForDiskOk("d1", Duration.ofSeconds(20));
    assertThat(d.status()).isEqualTo("ok");
    assertThat(d.provisionedSize()).isEqualTo(1024);
    wm.verify(3, getRequestedFor(urlEqualTo(API + "/disks/d1")));
  }

  @Test
  void waitForDiskOkStopsAtOnceOnIllegal() {
    login();
    wm.stubFor(get(urlEqualTo(API + "/disks/d1"))
        .willReturn(okJson("{\"id\":\"d1\",\"status\":\"illegal\"}")));
    long start = System.nanoTime();
    DiskferryException e = thrown(() -> client.waitForDiskOk("d1", Duration.ofSeconds(30)));
    assertThat(e.kind()).isEqualTo(Kind.FAILED);
    assertThat(e.getMessage()).contains("disk d1").contains("illegal");
    assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(5));
    wm.verify(1, getRequestedFor(urlEqualTo(API + "/disks/d1")));
  }

  @Test
  void waitForDiskOkTimesOutNamingTheDisk() {
    login();
    wm.stubFor(get(urlEqualTo(API + "/disks/d1"))
        .willReturn(okJson("{\"id\":\"d1\",\"status\":\"locked\"}")));
    DiskferryException e = thrown(() -> client.waitForDiskOk("d1", Duration.ofMillis(800)));
    assertThat(e.kind()).isEqualTo(Kind.FAILED);
    assertThat(e.getMessage())
        .isEqualTo("timed out after 0.8s waiting for disk d1 to become ok (status: locked)");
  }

  @Test
  void waitForDiskOkOnAMissingDiskIsNotFound() {
    login();
    wm.stubFor(get(urlEqualTo(API + "/disks/d1")).willReturn(aResponse().withStatus(404)));
    assertThat(thrown(() -> client.waitForDiskOk("d1", Duration.ofSeconds(5))).kind())
        .isEqualTo(Kind.NOT_FOUND);
  }
}
