package org.diskferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.diskferry.cli.SandboxFixture.Result;
import org.diskferry.http.HttpClientFactory;
import org.diskferry.http.Json;
import org.diskferry.http.TlsOptions;
import org.diskferry.ovirt.EngineClient;
import org.diskferry.sandbox.FaultHook;
import org.diskferry.sandbox.FaultSpec;
import org.diskferry.transfer.Journal;
import org.diskferry.transfer.JournalStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * What an engine that fails (5xx answers, a transfer it ends on its own) and an unusable local
 * state directory leave behind: never a disk that neither {@code status} nor {@code cancel} sees.
 */
class EngineFaultsEndToEndTest {

  @TempDir static Path dir;
  static SandboxFixture fx;

  @BeforeAll
  static void start() throws IOException {
    fx = new SandboxFixture(dir);
  }

  @AfterAll
  static void stop() {
    fx.close();
  }

  @AfterEach
  void cleanUp() throws IOException {
    fx.sandbox.setFaultHook(null);
    for (Journal j : journals().list()) {
      journals().delete(j.transferId());
    }
  }

  static JournalStore journals() {
    return JournalStore.fromEnvironment(fx.env());
  }

  static EngineClient engine() {
    return EngineClient.login(
        HttpClientFactory.create(TlsOptions.caFile(fx.sandbox.caFile()), null),
        fx.sandbox.engineUrl(),
        fx.sandbox.username(),
        fx.sandbox.password().toCharArray());
  }

  /** The error lines on stderr. */
  static List<String> errorLines(Result r) {
    return r.err().lines().filter(l -> l.startsWith("diskferry: error:")).toList();
  }

  static boolean diskRequest(FaultHook.Request r) {
    return r.path().matches("/ovirt-engine/api/disks/[0-9a-f-]{36}");
  }

  @Test
  void anUnwritableStateDirectoryIsRefusedBeforeADiskExists() throws IOException {
    Path src = SandboxFixture.image(dir.resolve("nostate.img"), 1 << 20, 1, true);
    Path state = Files.createDirectories(dir.resolve("blocked-state"));
    Files.writeString(state.resolve("diskferry"), "a file where the journal directory goes\n");
    Map<String, String> env = fx.env();
    env.put("XDG_STATE_HOME", state.toString());
    Result r = fx.run(env, "upload", src.toString(), "--name", "nostate");
    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    assertThat(errorLines(r))
        .containsExactly(
            "diskferry: error: cannot save journals in " + state.resolve("diskferry")
                + " (set by $XDG_STATE_HOME, default ~/.local/state): a file is in the way (not a"
                + " directory); nothing was started");
    try (EngineClient engine = engine()) {
      assertThat(engine.disksByName("nostate")).isEmpty();
      assertThat(engine.transfers()).noneMatch(t -> t.phase().wire().equals("transferring"));
    }
    Result down = fx.run(env, "download", "nostate-any", dir.resolve("nostate.out").toString());
    assertThat(down.exit()).as(down.toString()).isIn(1, 4);
    assertThat(dir.resolve("nostate.out.part")).doesNotExist();
  }

  @Test
  void oneEngine5xxWhileWaitingForTheDiskIsTriedAgain() throws IOException {
    Path src = SandboxFixture.image(dir.resolve("one5xx.img"), 2 << 20, 2, true);
    AtomicInteger faulted = new AtomicInteger();
    fx.sandbox.setFaultHook(
        r -> r.method().equals("GET") && diskRequest(r) && faulted.getAndIncrement() == 0
            ? FaultHook.Action.respond(503, "engine restarting")
            : null);
    Result r =
        fx.run("-o", "json", "upload", src.toString(), "--name", "one5xx", "--retry-delay", "5");
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(faulted.get()).isGreaterThan(1);
    assertThat(r.err()).contains("\"event\":\"retry\"");
    String disk = Json.mapper().readTree(r.out()).get("disk_id").asText();
    assertThat(fx.sandbox.diskStatus(disk)).contains("ok");
    assertThat(journals().list()).isEmpty();
  }

  @Test
  void aDiskThatCannotBeRemovedKeepsItsJournalSoThatStatusShowsItAndCancelRemovesIt()
      throws IOException {
    Path src = SandboxFixture.image(dir.resolve("left.img"), 2 << 20, 3, true);
    AtomicBoolean down = new AtomicBoolean(true);
    fx.sandbox.setFaultHook(
        r -> down.get() && diskRequest(r) && !r.method().equals("POST")
            ? FaultHook.Action.respond(500, "engine failing")
            : null);
    Result r =
        fx.run("upload", src.toString(), "--name", "left", "--retries", "1", "--retry-delay", "5");
    down.set(false);
    assertThat(r.exit()).as(r.toString()).isEqualTo(1);
    List<Journal> left = journals().list();
    assertThat(left).hasSize(1);
    Journal j = left.get(0);
    assertThat(j.pending()).isTrue();
    assertThat(errorLines(r))
        .containsExactly(
            "diskferry: error: engine error: cannot get disk " + j.diskId() + " (HTTP 500); disk "
                + j.diskId() + " is left on the engine: run 'diskferry cancel disk-" + j.diskId()
                + "' to remove it");
    assertThat(fx.sandbox.diskStatus(j.diskId())).isPresent();

    Result status = fx.run("-o", "json", "status");
    assertThat(status.exit()).as(status.toString()).isZero();
    JsonNode row = null;
    for (JsonNode n : Json.mapper().readTree(status.out())) {
      if (n.get("id").asText().equals(j.transferId())) {
        row = n;
      }
    }
    assertThat(row).as(status.out()).isNotNull();
    assertThat(row.get("disk_id").asText()).isEqualTo(j.diskId());
    assertThat(row.get("phase").asText()).isEqualTo("no_transfer");

    Result cancel = fx.run("cancel", j.transferId());
    assertThat(cancel.exit()).as(cancel.toString()).isZero();
    assertThat(fx.sandbox.diskStatus(j.diskId())).isEmpty();
    assertThat(journals().list()).isEmpty();
  }

  /** Uploads a disk to download from; returns its id. */
  static String disk(Path src, String name) throws IOException {
    Result up = fx.run("-o", "json", "upload", src.toString(), "--name", name);
    assertThat(up.exit()).as(up.toString()).isZero();
    return Json.mapper().readTree(up.out()).get("disk_id").asText();
  }

  @Test
  void aDownloadWhoseTransferTheEngineCancelsContinuesInANewTransferInTheSameRun()
      throws IOException {
    Path src = SandboxFixture.image(dir.resolve("lost.img"), 8 << 20, 4, true);
    String disk = disk(src, "lost");
    Path target = dir.resolve("lost-back.img");
    FaultSpec.Injector faults = FaultSpec.parse("lose-ticket:after=6").install(fx.sandbox);
    Result r =
        fx.run("-o", "json", "download", disk, target.toString(), "--workers", "2",
            "--range-size", "1M", "--buffer-size", "256K", "--retry-delay", "5");
    assertThat(r.exit()).as(r.toString()).isZero();
    assertThat(faults.injected(FaultSpec.Kind.LOSE_TICKET)).isBetween(1L, 3L);
    assertThat(r.err()).contains("continuing in a new transfer on disk " + disk);
    assertThat(Files.mismatch(src, target)).isEqualTo(-1L);
    assertThat(dir.resolve("lost-back.img.part")).doesNotExist();
    assertThat(journals().list()).isEmpty();
    assertThat(fx.sandbox.diskStatus(disk)).contains("ok");
    String last = Json.mapper().readTree(r.out()).get("transfer_id").asText();
    try (EngineClient engine = engine()) {
      assertThat(engine.transfers())
          .filteredOn(t -> disk.equals(t.diskId()))
          .allSatisfy(t -> assertThat(t.phase().isFinished()).isTrue())
          .anySatisfy(t -> assertThat(t.phase().wire()).isEqualTo("finished_failure"))
          .anySatisfy(t -> assertThat(t.id()).isEqualTo(last));
    }
  }

  @Test
  void newTransfersAreBoundedAndTheLastOneIsJournaledForResume() throws IOException {
    Path src = SandboxFixture.image(dir.resolve("lost2.img"), 16 << 20, 5, true);
    String disk = disk(src, "lost2");
    Path target = dir.resolve("lost2-back.img");
    FaultSpec.Injector faults = FaultSpec.parse("lose-ticket:after=3").install(fx.sandbox);
    Result r =
        fx.run("download", disk, target.toString(), "--workers", "1", "--range-size", "1M",
            "--buffer-size", "256K", "--retry-delay", "5");
    fx.sandbox.setFaultHook(null);
    assertThat(r.exit()).as(r.toString()).isEqualTo(75);
    // The first transfer and the three that continued it, each ended by the engine.
    assertThat(faults.injected(FaultSpec.Kind.LOSE_TICKET)).as(r.toString()).isEqualTo(4);
    List<Journal> left = journals().list();
    assertThat(left).hasSize(1);
    Journal j = left.get(0);
    assertThat(j.bytesDone()).isGreaterThan(0).isLessThan(16L << 20);
    assertThat(errorLines(r)).hasSize(1);
    assertThat(errorLines(r).get(0))
        .startsWith("diskferry: error: transfer " + j.transferId() + ": ")
        .endsWith("run 'diskferry resume " + j.transferId() + "' to continue");
    assertThat(dir.resolve("lost2-back.img.part")).exists();
    Result resumed = fx.run("resume", j.transferId());
    assertThat(resumed.exit()).as(resumed.toString()).isZero();
    assertThat(Files.mismatch(src, target)).isEqualTo(-1L);
    assertThat(journals().list()).isEmpty();
  }
}
