package org.diskferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import okhttp3.OkHttpClient;
import org.diskferry.cli.SandboxFixture.Result;
import org.diskferry.http.HttpClientFactory;
import org.diskferry.http.Json;
import org.diskferry.http.TlsOptions;
import org.diskferry.ovirt.Disk;
import org.diskferry.ovirt.DiskSpec;
import org.diskferry.ovirt.EngineClient;
import org.diskferry.ovirt.ImageTransfer;
import org.diskferry.ovirt.OvirtBackend;
import org.diskferry.ovirt.Poll;
import org.diskferry.ovirt.TransferPhase;
import org.diskferry.ovirt.TransferSpec;
import org.diskferry.transfer.Direction;
import org.diskferry.transfer.Orchestrator;
import org.diskferry.transfer.TransferInterruptedException;
import org.diskferry.transfer.TransferListener;
import org.diskferry.transfer.TransferRequest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Interruption, cancel, status, locked disks and the proxy fallback, against the sandbox. */
class TransferLifecycleTest {

  @TempDir static Path dir;
  static SandboxFixture fx;
  static OkHttpClient http;

  @BeforeAll
  static void start() throws IOException {
    fx = new SandboxFixture(dir);
    http = HttpClientFactory.create(TlsOptions.caFile(fx.sandbox.caFile()), null);
  }

  @AfterAll
  static void stop() {
    fx.close();
  }

  static EngineClient engine() {
    return EngineClient.login(
        http, fx.sandbox.engineUrl(), fx.sandbox.username(), fx.sandbox.password().toCharArray());
  }

  static Disk newDisk(EngineClient engine, String name, long size) {
    Disk d =
        engine.createDisk(
            new DiskSpec(name, null, fx.sandbox.storageDomainName(), "raw", true, size, null,
                "data", null));
    return engine.waitForDiskOk(d.id(), Duration.ofSeconds(20));
  }

  @Test
  void interruptedUploadIsCancelledAndItsDiskRemoved() throws IOException {
    Path src = SandboxFixture.image(dir.resolve("int.img"), 8 << 20, 5, false);
    TransferRequest base = TransferRequest.of(Direction.UPLOAD, src, null);
    TransferRequest req =
        new TransferRequest(Direction.UPLOAD, src, null, "data", "interrupted", null, false, null,
            1, 64 << 10, null, false, null, null, false, Duration.ofSeconds(60), 1 << 20);
    assertThat(base.workers()).isEqualTo(4);
    try (OvirtBackend backend = new OvirtBackend(engine(), http)) {
      Orchestrator[] o = new Orchestrator[1];
      String[] transferId = new String[1];
      TransferListener interruptOnData =
          new TransferListener() {
            @Override
            public void progress(long transferred, long size) {
              if (transferred > 0) {
                transferId[0] = o[0].currentSession().transferId();
                o[0].interrupt("interrupted by test");
              }
            }
          };
      o[0] = new Orchestrator(backend, interruptOnData);
      assertThatThrownBy(() -> o[0].run(req))
          .isInstanceOf(TransferInterruptedException.class)
          .hasMessageContaining("interrupted by test");
      EngineClient engine = backend.engine();
      assertThat(engine.disksByName("interrupted")).isEmpty();
      Optional<ImageTransfer> t = engine.findTransfer(transferId[0]);
      assertThat(t).isPresent();
      assertThat(t.get().phase()).isEqualTo(TransferPhase.FINISHED_FAILURE);
    }
  }

  @Test
  void aTransferPausedBySystemMidwayIsResumedAutomatically() throws IOException {
    Path src = SandboxFixture.image(dir.resolve("psys.img"), 8 << 20, 12, false);
    TransferRequest req =
        new TransferRequest(Direction.UPLOAD, src, null, "data", "paused-midway", null, false,
            null, 2, 64 << 10, null, false, null, null, false, Duration.ofSeconds(60), 1 << 20);
    try (OvirtBackend backend = new OvirtBackend(engine(), http)) {
      Orchestrator[] o = new Orchestrator[1];
      java.util.concurrent.atomic.AtomicBoolean done = new java.util.concurrent.atomic.AtomicBoolean();
      o[0] =
          new Orchestrator(
              backend,
              new TransferListener() {
                @Override
                public void progress(long transferred, long size) {
                  if (transferred > (2 << 20) && done.compareAndSet(false, true)) {
                    String id = o[0].currentSession().transferId();
                    // While the engine keeps the transfer paused, its ticket is refused, as a
                    // real one is once it expires unrenewed.
                    fx.sandbox.setFaultHook(
                        r ->
                            r.dataPlane()
                                    && !fx.sandbox.transferPhase(id).orElse("").equals("transferring")
                                ? org.diskferry.sandbox.FaultHook.Action.respond(
                                    403, "You are not allowed to access this resource: expired")
                                : null);
                    assertThat(fx.sandbox.pauseSystem(id)).isTrue();
                  }
                }
              },
              new org.diskferry.transfer.RetryPolicy(
                  3, 50, Duration.ofMillis(5), Duration.ofMillis(50)));
      org.diskferry.transfer.TransferResult r;
      try {
        r = o[0].run(req);
      } finally {
        fx.sandbox.setFaultHook(null);
      }
      assertThat(done).isTrue();
      assertThat(r.phase()).isEqualTo("finished_success");
      assertThat(r.retries()).isPositive();
      Path back = dir.resolve("psys-back.img");
      Result down = fx.run("download", r.diskId(), back.toString());
      assertThat(down.exit()).as(down.toString()).isZero();
      assertThat(Files.mismatch(src, back)).isEqualTo(-1L);
    }
  }

  @Test
  void interruptedDownloadLeavesNoFileAndTheDiskUnlocked() throws IOException {
    Path src = SandboxFixture.image(dir.resolve("dl.img"), 8 << 20, 6, false);
    Result up = fx.run("-o", "json", "upload", src.toString(), "--name", "dl-int");
    assertThat(up.exit()).as(up.toString()).isZero();
    String disk = Json.mapper().readTree(up.out()).get("disk_id").asText();
    Path target = dir.resolve("dl-int.img");
    TransferRequest req =
        new TransferRequest(Direction.DOWNLOAD, target, disk, null, null, "raw", false, null, 1,
            64 << 10, null, false, null, null, false, Duration.ofSeconds(60), 1 << 20);
    try (OvirtBackend backend = new OvirtBackend(engine(), http)) {
      Orchestrator[] o = new Orchestrator[1];
      o[0] =
          new Orchestrator(
              backend,
              new TransferListener() {
                @Override
                public void progress(long transferred, long size) {
                  if (transferred > 0) {
                    o[0].interrupt("stop");
                  }
                }
              });
      assertThatThrownBy(() -> o[0].run(req)).isInstanceOf(TransferInterruptedException.class);
    }
    assertThat(target).doesNotExist();
    assertThat(dir.resolve("dl-int.img.part")).doesNotExist();
    assertThat(fx.sandbox.diskStatus(disk)).contains("ok");
  }

  @Test
  void lockedDiskIsAConflictAndStatusAndCancelWork() throws IOException {
    try (EngineClient engine = engine()) {
      Disk d = newDisk(engine, "locked-one", 1 << 20);
      ImageTransfer t =
          engine.createTransfer(new TransferSpec(d.id(), "upload", null, null, null));
      assertThat(fx.sandbox.diskStatus(d.id())).contains("locked");

      Path src = SandboxFixture.image(dir.resolve("locked.img"), 1 << 20, 8, false);
      Result r = fx.run("upload", src.toString(), "--disk-id", d.id());
      assertThat(r.exit()).as(r.toString()).isEqualTo(5);
      assertThat(r.err()).contains("locked");

      Result status = fx.run("-o", "json", "status", t.id());
      assertThat(status.exit()).as(status.toString()).isZero();
      JsonNode s = Json.mapper().readTree(status.out());
      assertThat(s.get("id").asText()).isEqualTo(t.id());
      assertThat(s.get("disk_id").asText()).isEqualTo(d.id());
      assertThat(s.get("phase").asText()).isEqualTo("transferring");
      Result table = fx.run("status");
      assertThat(table.out()).contains(t.id()).contains("transferring");

      Result cancel = fx.run("-o", "json", "cancel", t.id());
      assertThat(cancel.exit()).as(cancel.toString()).isZero();
      JsonNode c = Json.mapper().readTree(cancel.out());
      assertThat(c.get("phase").asText()).isEqualTo("finished_failure");
      assertThat(c.get("disk_removed").asBoolean()).isTrue();
      assertThat(engine.findDisk(d.id())).isEmpty();
    }
  }

  @Test
  void fallsBackToTheProxyWhenTheHostDaemonIsUnreachable() throws IOException {
    try (SandboxFixture own = new SandboxFixture(dir.resolve("proxy"))) {
      own.sandbox.stopDaemon();
      Path src = SandboxFixture.image(dir.resolve("proxy.img"), 3 << 20, 9, true);
      Result up = own.run("-o", "json", "upload", src.toString(), "--name", "via-proxy");
      assertThat(up.exit()).as(up.toString()).isZero();
      String disk = Json.mapper().readTree(up.out()).get("disk_id").asText();
      Path back = dir.resolve("proxy-back.img");
      Result down = own.run("download", disk, back.toString(), "--use-proxy");
      assertThat(down.exit()).as(down.toString()).isZero();
      assertThat(Files.mismatch(src, back)).isEqualTo(-1L);
    }
  }

  @Test
  void sigtermWithCancelOnInterruptCancelsTheUploadAndExits143() throws Exception {
    Path src = SandboxFixture.image(dir.resolve("sig-term.img"), 256 << 20, 10, false);
    Path err = dir.resolve("sig-term.err");
    Process p =
        CliProcess.start(fx.env(), err, "upload", src.toString(), "--name", "signalled",
            "--workers", "1", "--buffer-size", "64K", "--cancel-on-interrupt");
    try {
      CliProcess.awaitOutput(err, "uploading");
      CliProcess.signal(p, "TERM");
      assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
      String text = Files.readString(err, StandardCharsets.UTF_8);
      assertThat(p.exitValue()).as(text).isEqualTo(143);
      assertThat(text).contains("diskferry: error: interrupted by SIGTERM");
      try (EngineClient engine = engine()) {
        assertThat(engine.disksByName("signalled")).isEmpty();
      }
    } finally {
      p.destroyForcibly();
    }
  }
}
