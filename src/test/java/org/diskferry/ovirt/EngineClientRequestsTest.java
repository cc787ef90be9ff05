package org.diskferry.ovirt;

import static com.github.tomakehurst.wiremock.client.WireMock.aResponse;
import static com.github.tomakehurst.wiremock.client.WireMock.delete;
import static com.github.tomakehurst.wiremock.client.WireMock.deleteRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.verification.LoggedRequest;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the client sends: exactly the model's fields, with the right headers. */
class EngineClientRequestsTest extends EngineTestSupport {

  private LoggedRequest onlyPost(String path) {
    List<LoggedRequest> reqs = wm.findAll(postRequestedFor(urlEqualTo(API + path)));
    assertThat(reqs).hasSize(1);
    LoggedRequest r = reqs.get(0);
    assertThat(r.getHeader("Content-Type")).isEqualTo("application/json");
    assertThat(r.getHeader("Authorization")).isEqualTo("Bearer " + TOKEN);
    assertThat(r.getHeader("Version")).isEqualTo("4");
    return r;
  }

  @Test
  void createSparseCowDisk() throws Exception {
    login();
    wm.stubFor(
        post(urlEqualTo(API + "/disks"))
            .willReturn(json(202, "{\"id\":\"new\",\"name\":\"f.qcow2\",\"status\":\"locked\","
                + "\"format\":\"cow\",\"sparse\":\"true\",\"provisioned_size\":\"6442450944\"}")));
    Disk d =
        client.createDisk(
            new DiskSpec("f.qcow2", "Uploaded disk", "mysd", "cow", true, 6442450944L,
                1351680000L, "data", null));
    assertThat(d.id()).isEqualTo("new");
    assertThat(d.isLocked()).isTrue();
    assertThat(tree(onlyPost("/disks").getBodyAsString()))
        .isEqualTo(
            tree(
                "{\"name\":\"f.qcow2\",\"description\":\"Uploaded disk\",\"content_type\":\"data\","
                    + "\"format\":\"cow\",\"sparse\":true,\"provisioned_size\":6442450944,"
                    + "\"initial_size\":1351680000,"
                    + "\"storage_domains\":{\"storage_domain\":[{\"name\":\"mysd\"}]}}"));
  }

  @Test
  void preallocatedCowDiskAsksForIncrementalBackup() throws Exception {
    login();
    wm.stubFor(post(urlEqualTo(API + "/disks")).willReturn(json(201, "{\"id\":\"x\"}")));
    client.createDisk(
        new DiskSpec("x", null, "sd", "cow", false, 1073741824L, null, null,
            "6f1a0c3e-2b4d-4e5f-8a9b-0c1d2e3f4a5b"));
    assertThat(tree(onlyPost("/disks").getBodyAsString()))
        .isEqualTo(
            tree(
                "{\"id\":\"6f1a0c3e-2b4d-4e5f-8a9b-0c1d2e3f4a5b\",\"name\":\"x\",\"format\":\"cow\","
                    + "\"sparse\":false,\"provisioned_size\":1073741824,\"backup\":\"incremental\","
                    + "\"storage_domains\":{\"storage_domain\":[{\"name\":\"sd\"}]}}"));
  }

  @Test
  void rawPreallocatedDiskHasNoBackupAndTakes200() throws Exception {
    login();
    wm.stubFor(post(urlEqualTo(API + "/disks")).willReturn(okJson("{\"id\":\"r\"}")));
    assertThat(client.createDisk(
        new DiskSpec("r", null, "sd", "raw", false, 4096, null, "iso", null)).id()).isEqualTo("r");
    assertThat(tree(onlyPost("/disks").getBodyAsString()).has("backup")).isFalse();
  }

  @Test
  void createTransferAlwaysSendsFormatRaw() throws Exception {
    login();
    wm.stubFor(
        post(urlEqualTo(API + "/imagetransfers"))
            .willReturn(
                json(201, EngineClientJsonTest.TRANSFER_STRINGS)
                    .withHeader("Location", "/ovirt-engine/api/imagetransfers/t1")));
    ImageTransfer t =
        client.createTransfer(new TransferSpec("d1", "download", "h1", 120, "cancel"));
    assertThat(t.id()).isEqualTo("t1");
    assertThat(tree(onlyPost("/imagetransfers").getBodyAsString()))
        .isEqualTo(
            tree(
                "{\"disk\":{\"id\":\"d1\"},\"host\":{\"id\":\"h1\"},\"direction\":\"download\","
                    + "\"format\":\"raw\",\"inactivity_timeout\":120,\"timeout_policy\":\"cancel\"}"));
  }

  @Test
  void minimalTransferSendsOnlyDiskDirectionAndFormat() throws Exception {
    login();
    wm.stubFor(post(urlEqualTo(API + "/imagetransfers"))
        .willReturn(json(201, "{\"id\":\"t\",\"phase\":\"initializing\"}")));
    assertThat(client.createTransfer(new TransferSpec("d1", "upload", null, null, null)).phase())
        .isEqualTo(TransferPhase.INITIALIZING);
    assertThat(tree(onlyPost("/imagetransfers").getBodyAsString()))
        .isEqualTo(tree("{\"disk\":{\"id\":\"d1\"},\"direction\":\"upload\",\"format\":\"raw\"}"));
  }

  @Test
  void transferActionsPostAnEmptyObject() throws Exception {
    login();
    for (String a : new String[] {"extend", "finalize", "cancel", "pause", "resume"}) {
      wm.stubFor(post(urlEqualTo(API + "/imagetransfers/t1/" + a))
          .willReturn(okJson("{\"status\":\"complete\"}")));
    }
    client.extendTransfer("t1");
    client.finalizeTransfer("t1");
    client.cancelTransfer("t1");
    client.pauseTransfer("t1");
    client.resumeTransfer("t1");
    for (String a : new String[] {"extend", "finalize", "cancel", "pause", "resume"}) {
      assertThat(tree(onlyPost("/imagetransfers/t1/" + a).getBodyAsString()))
          .isEqualTo(tree("{}"));
    }
  }

  @Test
  void deleteDiskAccepts200Complete() {
    login();
    wm.stubFor(delete(urlEqualTo(API + "/disks/d1")).willReturn(okJson("{\"status\":\"complete\"}")));
    client.deleteDisk("d1");
    wm.verify(1, deleteRequestedFor(urlEqualTo(API + "/disks/d1")));
  }

  @Test
  void idsAreEncodedAsOnePathSegment() {
    login();
    wm.stubFor(post(urlEqualTo(API + "/imagetransfers/..%2Fdisks/cancel"))
        .willReturn(okJson("{\"status\":\"complete\"}")));
    wm.stubFor(post(urlEqualTo(API + "/disks/cancel")).willReturn(aResponse().withStatus(500)));
    client.cancelTransfer("../disks");
    wm.verify(1, postRequestedFor(urlEqualTo(API + "/imagetransfers/..%2Fdisks/cancel")));
  }
}
