package org.diskferry.ovirt;

import static com.github.tomakehurst.wiremock.client.WireMock.equalToJson;
import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.post;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

import com.github.tomakehurst.wiremock.stubbing.Scenario;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.diskferry.error.DiskferryException.Kind;
import org.junit.jupiter.api.Test;

/** The VM backup API's requests and how its answers and errors are read. */
class VmBackupsTest extends EngineTestSupport {

  private VmBackups backups() {
    login();
    return new VmBackups(client);
  }

  @Test
  void vmByNameAndItsDisksWithWhatKeepsThemOutOfABackup() {
    VmBackups b = backups();
    wm.stubFor(get(urlPathEqualTo(API + "/vms"))
        .willReturn(okJson("{\"vm\":[{\"id\":\"v2\",\"name\":\"web10\"},"
            + "{\"id\":\"v1\",\"name\":\"web1\",\"status\":\"up\"}]}")));
    wm.stubFor(get(urlEqualTo(API + "/vms/v1/diskattachments"))
        .willReturn(okJson("{\"disk_attachment\":["
            + "{\"id\":\"d1\",\"active\":\"true\",\"disk\":{\"id\":\"d1\"}},"
            + "{\"id\":\"d2\",\"active\":\"true\",\"disk\":{\"id\":\"d2\"}},"
            + "{\"id\":\"d3\",\"active\":\"false\",\"disk\":{\"id\":\"d3\"}},"
            + "{\"id\":\"d4\",\"active\":\"true\",\"disk\":{\"id\":\"d4\"}}]}")));
    wm.stubFor(get(urlEqualTo(API + "/disks/d1")).willReturn(okJson(
        "{\"id\":\"d1\",\"alias\":\"root\",\"format\":\"cow\",\"provisioned_size\":\"1048576\","
            + "\"shareable\":\"false\",\"storage_type\":\"image\",\"backup\":\"incremental\"}")));
    wm.stubFor(get(urlEqualTo(API + "/disks/d2")).willReturn(okJson(
        "{\"id\":\"d2\",\"alias\":\"shared\",\"format\":\"raw\",\"shareable\":\"true\","
            + "\"storage_type\":\"image\"}")));
    wm.stubFor(get(urlEqualTo(API + "/disks/d3")).willReturn(okJson(
        "{\"id\":\"d3\",\"alias\":\"off\",\"format\":\"cow\",\"storage_type\":\"image\"}")));
    wm.stubFor(get(urlEqualTo(API + "/disks/d4")).willReturn(okJson(
        "{\"id\":\"d4\",\"alias\":\"san\",\"storage_type\":\"lun\"}")));

    VmBackups.Vm vm = b.vm("web1");
    assertThat(vm).isEqualTo(new VmBackups.Vm("v1", "web1", "up"));
    List<VmBackups.VmDisk> disks = b.disks("v1");
    assertThat(disks).extracting(VmBackups.VmDisk::whyNotBackedUp)
        .containsExactly(null, "shareable", "not active on the VM", "a direct LUN");
    assertThat(disks.get(0).provisionedSize()).isEqualTo(1048576);
    assertThat(EngineClientErrorsTest.thrown(() -> b.vm("web")).kind()).isEqualTo(Kind.NOT_FOUND);
  }

  @Test
  void startSendsOurIdAndTheCheckpointAndA400ForItIsCheckpointRefused() {
    VmBackups b = backups();
    wm.stubFor(post(urlEqualTo(API + "/vms/v1/backups"))
        .withRequestBody(equalToJson("{\"id\":\"b1\",\"from_checkpoint_id\":\"cp0\","
            + "\"description\":\"x\",\"disks\":{\"disk\":[{\"id\":\"d1\"}]}}"))
        .willReturn(json(400, "{\"reason\":\"Operation Failed\",\"detail\":\"[Cannot backup"
            + " VM. Checkpoint ID cp0 doesn't exist.]\"}")));
    wm.stubFor(post(urlEqualTo(API + "/vms/v1/backups"))
        .withRequestBody(equalToJson("{\"id\":\"b1\",\"description\":\"x\","
            + "\"disks\":{\"disk\":[{\"id\":\"d1\"}]}}"))
        .willReturn(json(201, "{\"id\":\"b1\",\"phase\":\"initializing\","
            + "\"creation_date\":1764720000000}")));

    Throwable refused =
        EngineClientErrorsTest.thrown(() -> b.start("v1", "b1", "cp0", List.of("d1"), "x"));
    assertThat(refused).isInstanceOf(VmBackups.CheckpointRefused.class)
        .hasMessage("cannot start a backup of VM v1: Cannot backup VM. Checkpoint ID cp0"
            + " doesn't exist.");
    VmBackups.Backup full = b.start("v1", "b1", null, List.of("d1"), "x");
    assertThat(full.phase()).isEqualTo("initializing");
    assertThat(full.created()).isEqualTo(Instant.ofEpochMilli(1764720000000L));
  }

  @Test
  void aBackupAlreadyRunningIsAConflictNamedAsSuch() {
    VmBackups b = backups();
    wm.stubFor(post(urlEqualTo(API + "/vms/v1/backups"))
        .willReturn(json(409, "{\"reason\":\"Operation Failed\",\"detail\":\"[Cannot backup"
            + " VM. The VM is during a backup operation.]\"}")));
    var e = EngineClientErrorsTest.thrown(() -> b.start("v1", "b1", null, List.of("d1"), null));
    assertThat(e.kind()).isEqualTo(Kind.CONFLICT);
    assertThat(e.getMessage()).isEqualTo("VM v1 is being backed up elsewhere (the engine has a"
        + " backup of it running); skipped");
  }

  @Test
  void pollsUntilReadyReadsModesAndFinalizesOnce() {
    VmBackups b = backups();
    String path = API + "/vms/v1/backups/b1";
    wm.stubFor(get(urlEqualTo(path)).inScenario("p").whenScenarioStateIs(Scenario.STARTED)
        .willReturn(okJson("{\"id\":\"b1\",\"phase\":\"starting\"}")).willSetStateTo("ready"));
    wm.stubFor(get(urlEqualTo(path)).inScenario("p").whenScenarioStateIs("ready")
        .willReturn(okJson("{\"id\":\"b1\",\"phase\":\"ready\",\"to_checkpoint_id\":\"cp1\","
            + "\"creation_date\":\"2026-12-03T02:00:00.000+01:00\"}")));
    VmBackups.Backup ready = b.waitReady("v1", "b1", java.time.Duration.ofSeconds(10), () -> {});
    assertThat(ready.toCheckpointId()).isEqualTo("cp1");
    assertThat(ready.created()).isEqualTo(Instant.parse("2026-12-03T01:00:00Z"));

    wm.stubFor(get(urlEqualTo(path + "/disks"))
        .willReturn(okJson("{\"disk\":[{\"id\":\"d1\",\"backup_mode\":\"incremental\"},"
            + "{\"id\":\"d2\",\"backup_mode\":\"full\"},{\"id\":\"d3\"}]}")));
    assertThat(b.backupModes("v1", "b1"))
        .isEqualTo(Map.of("d1", "incremental", "d2", "full", "d3", "full"));

    // Finalizing a backup that the engine already finalizes is not an error.
    wm.stubFor(post(urlEqualTo(path + "/finalize"))
        .willReturn(json(400, "{\"reason\":\"Operation Failed\",\"detail\":\"[VM 'v1' backup"
            + " 'b1' is already in 'FINALIZING' phase, no need to stop the backup again.]\"}")));
    wm.stubFor(get(urlEqualTo(path)).inScenario("p").whenScenarioStateIs("ready")
        .willReturn(okJson("{\"id\":\"b1\",\"phase\":\"finalizing\"}")));
    b.finalizeBackup("v1", "b1");
    wm.verify(1, postRequestedFor(urlEqualTo(path + "/finalize")));
  }

  @Test
  void aBackupTransferNamesDiskAndBackupInFormatRaw() {
    VmBackups b = backups();
    wm.stubFor(post(urlEqualTo(API + "/imagetransfers"))
        .withRequestBody(equalToJson("{\"disk\":{\"id\":\"d1\"},\"backup\":{\"id\":\"b1\"},"
            + "\"direction\":\"download\",\"format\":\"raw\",\"inactivity_timeout\":3600}"))
        .willReturn(json(201, "{\"id\":\"t1\",\"phase\":\"initializing\"}")));
    assertThat(b.createTransfer("d1", "b1", null, 3600).id()).isEqualTo("t1");
  }
}
