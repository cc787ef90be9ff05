package org.diskferry.ovirt;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The engine writes numbers and booleans as JSON strings; real numbers must work too. */
class EngineClientJsonTest extends EngineTestSupport {

  static final String DISK_STRINGS =
      "{\"actual_size\":\"0\",\"alias\":\"fedora.qcow2\",\"backup\":\"none\","
          + "\"content_type\":\"data\",\"format\":\"cow\",\"image_id\":\"b548\","
          + "\"name\":\"fedora.qcow2\",\"propagate_errors\":\"false\","
          + "\"provisioned_size\":\"1073741824\",\"qcow_version\":\"qcow2_v3\","
          + "\"shareable\":\"false\",\"sparse\":\"true\",\"status\":\"locked\","
          + "\"storage_type\":\"image\",\"total_size\":\"0\",\"wipe_after_delete\":\"false\","
          + "\"disk_profile\":{\"href\":\"/ovirt-engine/api/diskprofiles/p\",\"id\":\"p\"},"
          + "\"storage_domains\":{\"storage_domain\":[{\"href\":\"/ovirt-engine/api/storagedomains/sd1\",\"id\":\"sd1\"}]},"
          + "\"actions\":{\"link\":[{\"href\":\"/ovirt-engine/api/disks/d1/copy\",\"rel\":\"copy\"}]},"
          + "\"link\":[{\"href\":\"/ovirt-engine/api/disks/d1/permissions\",\"rel\":\"permissions\"}],"
          + "\"href\":\"/ovirt-engine/api/disks/d1\",\"id\":\"d1\"}";

  static final String TRANSFER_STRINGS =
      "{\"active\":\"false\",\"direction\":\"upload\",\"format\":\"raw\","
          + "\"inactivity_timeout\":\"60\",\"phase\":\"transferring\","
          + "\"proxy_url\":\"https://engine:54323/images/5916515f-d628-4311-8ce2-614c9d09731e\","
          + "\"shallow\":\"false\",\"timeout_policy\":\"legacy\","
          + "\"transfer_url\":\"https://host4:54322/images/5916515f-d628-4311-8ce2-614c9d09731e\","
          + "\"transferred\":\"0\","
          + "\"host\":{\"href\":\"/ovirt-engine/api/hosts/h1\",\"id\":\"h1\"},"
          + "\"image\":{\"id\":\"d1\"},"
          + "\"actions\":{\"link\":[{\"href\":\"/ovirt-engine/api/imagetransfers/t1/cancel\",\"rel\":\"cancel\"}]},"
          + "\"href\":\"/ovirt-engine/api/imagetransfers/t1\",\"id\":\"t1\"}";

  @Test
  void diskWithStringScalars() {
    login();
    wm.stubFor(get(urlEqualTo(API + "/disks/d1")).willReturn(okJson(DISK_STRINGS)));
    Disk d = client.disk("d1");
    assertThat(d)
        .isEqualTo(
            new Disk("d1", "fedora.qcow2", "locked", "cow", true, 1073741824L, 0L, "data",
                List.of("sd1")));
    assertThat(d.isLocked()).isTrue();
  }

  @Test
  void diskWithRealNumbersAliasOnlyAndNoStatus() {
    login();
    wm.stubFor(
        get(urlEqualTo(API + "/disks/d2"))
            .willReturn(
                okJson(
                    "{\"id\":\"d2\",\"alias\":\"only-alias\",\"format\":\"raw\",\"sparse\":false,"
                        + "\"provisioned_size\":6442450944,\"actual_size\":4096,"
                        + "\"content_type\":\"iso\",\"status\":null}")));
    Disk d = client.disk("d2");
    assertThat(d)
        .isEqualTo(new Disk("d2", "only-alias", null, "raw", false, 6442450944L, 4096L, "iso",
            List.of()));
  }

  @Test
  void transferRenderedWithImageAndNoDisk() {
    login();
    wm.stubFor(get(urlEqualTo(API + "/imagetransfers/t1")).willReturn(okJson(TRANSFER_STRINGS)));
    ImageTransfer t = client.transfer("t1");
    assertThat(t)
        .isEqualTo(
            new ImageTransfer(
                "t1", TransferPhase.TRANSFERRING, "upload",
                "https://host4:54322/images/5916515f-d628-4311-8ce2-614c9d09731e",
                "https://engine:54323/images/5916515f-d628-4311-8ce2-614c9d09731e",
                0L, false, "raw", 60, "legacy", "h1", "d1"));
    assertThat(t.toString()).doesNotContain("5916515f").contains("/images/<ticket>");
  }

  @Test
  void transferWithRealNumbersDiskReferenceAndNoUrls() {
    login();
    wm.stubFor(
        get(urlEqualTo(API + "/imagetransfers/t2"))
            .willReturn(
                okJson(
                    "{\"id\":\"t2\",\"phase\":\"FINISHED_SUCCESS\",\"direction\":\"download\","
                        + "\"transferred\":1048576,\"active\":true,\"inactivity_timeout\":120,"
                        + "\"disk\":{\"id\":\"dd\"},\"image\":{\"id\":\"ii\"}}")));
    ImageTransfer t = client.transfer("t2");
    assertThat(t)
        .isEqualTo(
            new ImageTransfer("t2", TransferPhase.FINISHED_SUCCESS, "download", null, null,
                1048576L, true, null, 120, null, null, "dd"));
  }

  @Test
  void emptyCollectionsAreEmptyObjects() {
    login();
    wm.stubFor(get(urlEqualTo(API + "/imagetransfers")).willReturn(okJson("{}")));
    wm.stubFor(get(urlEqualTo(API + "/disks")).willReturn(okJson("{ }")));
    wm.stubFor(get(urlEqualTo(API + "/storagedomains")).willReturn(okJson("{\"storage_domain\":[]}")));
    assertThat(client.transfers()).isEmpty();
    assertThat(client.disks()).isEmpty();
    assertThat(client.storageDomains()).isEmpty();
  }

  @Test
  void collectionsAreParsed() {
    login();
    wm.stubFor(
        get(urlEqualTo(API + "/imagetransfers"))
            .willReturn(okJson("{\"image_transfer\":[" + TRANSFER_STRINGS + ","
                + "{\"id\":\"t9\",\"phase\":\"paused_system\",\"image\":{\"id\":\"d9\"}}]}")));
    wm.stubFor(
        get(urlEqualTo(API + "/storagedomains"))
            .willReturn(
                okJson(
                    "{\"storage_domain\":[{\"id\":\"sd1\",\"name\":\"nfs1\",\"type\":\"data\","
                        + "\"storage\":{\"type\":\"nfs\",\"address\":\"x\"},\"available\":\"1000\","
                        + "\"status\":\"unattached\"},"
                        + "{\"id\":\"sd2\",\"name\":\"blk\",\"type\":\"data\",\"storage\":{\"type\":\"iscsi\"}}]}")));
    List<ImageTransfer> ts = client.transfers();
    assertThat(ts).extracting(ImageTransfer::id).containsExactly("t1", "t9");
    assertThat(ts.get(1).phase()).isEqualTo(TransferPhase.PAUSED_SYSTEM);
    assertThat(ts.get(1).diskId()).isEqualTo("d9");
    assertThat(client.storageDomains())
        .containsExactly(
            new StorageDomain("sd1", "nfs1", "data", "nfs"),
            new StorageDomain("sd2", "blk", "data", "iscsi"));
  }

  @Test
  void hostByIdAndByName() {
    login();
    String id = "0b3a2f6e-1111-4c1d-9a5b-1234567890ab";
    wm.stubFor(
        get(urlEqualTo(API + "/hosts/" + id))
            .willReturn(okJson("{\"id\":\"" + id + "\",\"name\":\"host1\",\"status\":\"up\","
                + "\"address\":\"h1.example.com\",\"cluster\":{\"id\":\"c\"}}")));
    wm.stubFor(
        get(urlEqualTo(API + "/hosts?search=name%3Dhost2&case_sensitive=true"))
            .willReturn(okJson("{\"host\":[{\"id\":\"x\",\"name\":\"host2x\",\"status\":\"up\"},"
                + "{\"id\":\"y\",\"name\":\"host2\",\"status\":\"maintenance\"}]}")));
    assertThat(client.host(id)).isEqualTo(new Host(id, "host1", "up"));
    assertThat(client.host("host2")).isEqualTo(new Host("y", "host2", "maintenance"));
  }
}
