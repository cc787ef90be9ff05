package org.diskferry.ovirt;

import static com.github.tomakehurst.wiremock.client.WireMock.get;
import static com.github.tomakehurst.wiremock.client.WireMock.okJson;
import static com.github.tomakehurst.wiremock.client.WireMock.postRequestedFor;
import static com.github.tomakehurst.wiremock.client.WireMock.urlEqualTo;
import static com.github.tomakehurst.wiremock.client.WireMock.urlPathEqualTo;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.diskferry.backup.BackupRun;
import org.diskferry.backup.Repository;
import org.diskferry.transfer.Direction;
import org.diskferry.transfer.RetryPolicy;
import org.diskferry.transfer.TransferListener;
import org.diskferry.transfer.TransferRequest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** What {@link BackupRun} does before anything starts on the engine, against a WireMock engine. */
class BackupRunTest extends EngineTestSupport {
  @TempDir Path dir;

  private final List<String> warnings = new ArrayList<>();

  private BackupRun.Result run(String vm, List<String> disks) {
    login();
    TransferListener l =
        new TransferListener() {
          @Override
          public void warn(String message) {
            warnings.add(message);
          }
        };
    BackupRun.Options o =
        new BackupRun.Options("auto", disks, TransferRequest.of(Direction.DOWNLOAD, null, null),
            RetryPolicy.DEFAULT, 0);
    return new BackupRun(new OvirtBackend(client, http), new Repository(dir), l, o).run(vm);
  }

  private void vmWithSharedAndLunDisks() {
    wm.stubFor(get(urlPathEqualTo(API + "/vms"))
        .willReturn(okJson("{\"vm\":[{\"id\":\"v1\",\"name\":\"db\"}]}")));
    wm.stubFor(get(urlEqualTo(API + "/vms/v1/diskattachments"))
        .willReturn(okJson("{\"disk_attachment\":["
            + "{\"id\":\"d1\",\"active\":\"true\",\"disk\":{\"id\":\"d1\"}},"
            + "{\"id\":\"d2\",\"active\":\"true\",\"disk\":{\"id\":\"d2\"}}]}")));
    wm.stubFor(get(urlEqualTo(API + "/disks/d1")).willReturn(okJson(
        "{\"id\":\"d1\",\"alias\":\"quorum\",\"format\":\"raw\",\"shareable\":\"true\","
            + "\"storage_type\":\"image\"}")));
    wm.stubFor(get(urlEqualTo(API + "/disks/d2")).willReturn(okJson(
        "{\"id\":\"d2\",\"alias\":\"san\",\"storage_type\":\"lun\"}")));
  }

  @Test
  void aVmWithoutDisksThatCanBeBackedUpIsExit2AndNamesThemWithoutStartingABackup()
      throws Exception {
    vmWithSharedAndLunDisks();
    BackupRun.Result r = run("db", List.of());
    assertThat(r.status()).isEqualTo("failed");
    assertThat(r.exitCode()).isEqualTo(2);
    assertThat(r.error()).isEqualTo("VM db has no disk that can be backed up");
    assertThat(warnings).containsExactly(
        "VM db: skipping disks that cannot be backed up: quorum (d1, shareable), san (d2, a"
            + " direct LUN)");
    wm.verify(0, postRequestedFor(urlEqualTo(API + "/vms/v1/backups")));
    try (var s = Files.list(dir)) {
      assertThat(s.toList()).isEmpty();
    }
  }

  @Test
  void aDiskNotAttachedToTheVmIsExit4() {
    vmWithSharedAndLunDisks();
    BackupRun.Result r = run("db", List.of("d9"));
    assertThat(r.exitCode()).isEqualTo(4);
    assertThat(r.error()).isEqualTo("disk d9 is not attached to VM db");
  }
}
