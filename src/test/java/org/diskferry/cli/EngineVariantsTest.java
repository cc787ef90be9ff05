package org.diskferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.diskferry.cli.SandboxFixture.Result;
import org.diskferry.http.Json;
import org.diskferry.sandbox.FaultHook;
import org.diskferry.sandbox.Sandbox;
import org.diskferry.sandbox.SandboxConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Engines that behave differently: older ones, slow starts, a broken data plane, profiles. */
class EngineVariantsTest {

  @TempDir Path dir;

  /** A fixture over a sandbox with a custom configuration. */
  private SandboxFixture fixture(SandboxConfig config) throws IOException {
    return new SandboxFixture(dir, Sandbox.start(config));
  }

  private SandboxConfig fast() {
    return SandboxConfig.defaults()
        .withDataDir(dir.resolve("sandbox"))
        .withTick(Duration.ofMillis(20))
        .withDiskReadyDelay(Duration.ofMillis(50));
  }

  @Test
  void olderEngineThatRemovesFinishedTransfersAndStartsSlowly() throws IOException {
    // Engines before 4.4.7 answer 404 right after finished_*; old ones stay in initializing.
    try (SandboxFixture fx = fixture(fast().withLegacyRemoval(true).withInitializingPolls(3))) {
      Path src = SandboxFixture.image(dir.resolve("legacy.img"), 3 << 20, 1, true);
      Result up = fx.run("-o", "json", "upload", src.toString(), "--name", "legacy");
      assertThat(up.exit()).as(up.toString()).isZero();
      JsonNode j = Json.mapper().readTree(up.out());
      assertThat(j.get("phase").asText()).isEqualTo("finished_success");
      Path back = dir.resolve("legacy-back.img");
      Result down = fx.run("download", j.get("disk_id").asText(), back.toString());
      assertThat(down.exit()).as(down.toString()).isZero();
      assertThat(Files.mismatch(src, back)).isEqualTo(-1L);
    }
  }

  @Test
  void brokenDataPlaneCancelsTheUploadAndRemovesItsDisk() throws IOException {
    try (SandboxFixture fx = fixture(fast())) {
      fx.sandbox.setFaultHook(
          r -> r.dataPlane() && r.method().equals("PUT") ? FaultHook.Action.resetAfter(1000) : null);
      Path src = SandboxFixture.image(dir.resolve("broken.img"), 2 << 20, 2, false);
      Result up =
          fx.run("upload", src.toString(), "--name", "broken", "--workers", "2",
              "--retries", "2", "--retry-delay", "10", "--cancel-on-interrupt");
      assertThat(up.exit()).as(up.toString()).isEqualTo(1);
      assertThat(up.err()).contains("failed after 3 tries");
      assertThat(up.err()).contains("diskferry: retrying PUT bytes 0-");
      assertThat(up.err()).contains("diskferry: error: ").doesNotContain("/images/" + "0");
      assertThat(up.err().lines().filter(l -> l.startsWith("diskferry: error:")).count())
          .isEqualTo(1);
      fx.sandbox.setFaultHook(null);
      Result list = fx.run("-o", "json", "list");
      assertThat(list.out()).doesNotContain("\"broken\"");
      Result status = fx.run("-o", "json", "status");
      for (JsonNode t : Json.mapper().readTree(status.out())) {
        assertThat(t.get("phase").asText()).isEqualTo("finished_failure");
      }
    }
  }

  @Test
  void unreachableDataPlaneIsAClearFailureAndLeavesNothingBehind() throws IOException {
    try (SandboxFixture fx = fixture(fast())) {
      fx.sandbox.stopDaemon();
      fx.sandbox.setFaultHook(r -> r.dataPlane() ? FaultHook.Action.resetAfter(0) : null);
      Path src = SandboxFixture.image(dir.resolve("noimageio.img"), 1 << 20, 5, false);
      Result up = fx.run("upload", src.toString(), "--name", "no-imageio");
      assertThat(up.exit()).as(up.toString()).isEqualTo(1);
      assertThat(up.err()).contains("cannot reach the imageio data plane");
      fx.sandbox.setFaultHook(null);
      assertThat(fx.run("-o", "json", "list").out()).doesNotContain("\"no-imageio\"");
    }
  }

  @Test
  void transientDataPlaneFailuresAreRetriedAndCounted() throws IOException {
    try (SandboxFixture fx = fixture(fast())) {
      // Fails the first try of every third range sent and received (a 503 or a reset), so that
      // each failure is cured by one retry whatever the order the workers run in.
      java.util.Set<String> seen = java.util.concurrent.ConcurrentHashMap.newKeySet();
      java.util.concurrent.atomic.AtomicInteger firsts = new java.util.concurrent.atomic.AtomicInteger();
      fx.sandbox.setFaultHook(
          r -> {
            if (!r.dataPlane() || r.path().endsWith("/extents")) {
              return null;
            }
            String range =
                r.method().equals("PUT")
                    ? r.headers().get("content-range")
                    : r.method().equals("GET") ? r.headers().get("range") : null;
            if (range == null || !seen.add(r.method() + range)) {
              return null;
            }
            int n = firsts.incrementAndGet();
            if (n % 3 != 0) {
              return null;
            }
            return r.method().equals("PUT") && n % 2 == 0
                ? FaultHook.Action.respond(503, "busy")
                : FaultHook.Action.resetAfter(10_000);
          });
      Path src = SandboxFixture.image(dir.resolve("flaky.img"), (3 << 20) + 777, 4, true);
      Result up =
          fx.run("-o", "json", "upload", src.toString(), "--name", "flaky", "--workers", "3",
              "--buffer-size", "64K", "--range-size", "256K", "--retry-delay", "5");
      assertThat(up.exit()).as(up.toString()).isZero();
      JsonNode j = Json.mapper().readTree(up.out());
      assertThat(j.get("retries").asInt()).isPositive();
      assertThat(up.err()).contains("\"event\":\"retry\"");
      Path back = dir.resolve("flaky-back.img");
      Result down =
          fx.run("-o", "json", "download", j.get("disk_id").asText(), back.toString(),
              "--workers", "3", "--range-size", "256K", "--retry-delay", "5");
      assertThat(down.exit()).as(down.toString()).isZero();
      assertThat(Json.mapper().readTree(down.out()).get("retries").asInt()).isPositive();
      assertThat(Files.mismatch(src, back)).isEqualTo(-1L);
    }
  }

  @Test
  void anExpiredTokenMidTransferIsRenewedByLoggingInAgain() throws IOException {
    try (SandboxFixture fx = fixture(fast())) {
      // The first poll of the transfer after the data moved answers 401, as the engine does when
      // the SSO session behind the token has expired: the client logs in again and goes on.
      java.util.concurrent.atomic.AtomicBoolean expired =
          new java.util.concurrent.atomic.AtomicBoolean();
      java.util.concurrent.atomic.AtomicBoolean dataMoved =
          new java.util.concurrent.atomic.AtomicBoolean();
      fx.sandbox.setFaultHook(
          r -> {
            if (r.dataPlane() && r.method().equals("PUT")) {
              dataMoved.set(true);
            }
            if (dataMoved.get()
                && r.path().contains("/ovirt-engine/api/imagetransfers/")
                && r.method().equals("POST")
                && r.path().endsWith("/finalize")
                && expired.compareAndSet(false, true)) {
              return FaultHook.Action.respond(401, "Unauthorized");
            }
            return null;
          });
      Path src = SandboxFixture.image(dir.resolve("token.img"), 2 << 20, 6, false);
      Result up = fx.run("-o", "json", "upload", src.toString(), "--name", "token");
      assertThat(up.exit()).as(up.toString()).isZero();
      assertThat(expired).isTrue();
      assertThat(Json.mapper().readTree(up.out()).get("phase").asText())
          .isEqualTo("finished_success");
    }
  }

  @Test
  void ssoSessionsExpiringMidTransferAreRenewedWithoutLosingData() throws IOException {
    try (SandboxFixture fx = fixture(fast())) {
      // After the 4th range of each direction every token the engine issued expires: the
      // heartbeat, the transfer polls and finalize meet 401s and log in again.
      AtomicInteger puts = new AtomicInteger();
      AtomicInteger gets = new AtomicInteger();
      AtomicInteger expired = new AtomicInteger();
      fx.sandbox.setFaultHook(
          r -> {
            if (r.dataPlane()
                && ((r.method().equals("PUT") && puts.incrementAndGet() == 4)
                    || (r.method().equals("GET") && gets.incrementAndGet() == 4))) {
              expired.addAndGet(fx.sandbox.expireTokens());
            }
            return null;
          });
      Path src = SandboxFixture.image(dir.resolve("sso.img"), 8 << 20, 7, false);
      Result up =
          fx.run("-o", "json", "upload", src.toString(), "--name", "sso", "--workers", "2",
              "--range-size", "1M");
      assertThat(up.exit()).as(up.toString()).isZero();
      assertThat(expired.get()).isPositive();
      String disk = Json.mapper().readTree(up.out()).get("disk_id").asText();
      int afterUpload = expired.get();
      Path back = dir.resolve("sso-back.img");
      Result down =
          fx.run("-o", "json", "download", disk, back.toString(), "--workers", "2",
              "--range-size", "1M");
      assertThat(down.exit()).as(down.toString()).isZero();
      assertThat(expired.get()).isGreaterThan(afterUpload);
      assertThat(Files.mismatch(src, back)).isEqualTo(-1L);
      assertThat(fx.sandbox.diskStatus(disk)).contains("ok");
    }
  }

  @Test
  void settingsFromAProfileInTheConfigFile() throws IOException {
    try (SandboxFixture fx = fixture(fast())) {
      Map<String, String> sb = fx.sandbox.environment();
      Path home = dir.resolve("home");
      Path conf = home.resolve(".config/diskferry/config");
      Files.createDirectories(conf.getParent());
      Files.writeString(
          conf,
          "[lab]\n"
              + "engine_url = " + sb.get("DISKFERRY_ENGINE_URL") + "\n"
              + "username = " + sb.get("DISKFERRY_USERNAME") + "\n"
              + "cafile = " + sb.get("DISKFERRY_CAFILE") + "\n"
              + "storage_domain = data\n");
      Path pw = dir.resolve("pw");
      Files.writeString(pw, fx.sandbox.password() + "\n");
      Map<String, String> env = Map.of("HOME", home.toString());
      Path src = SandboxFixture.image(dir.resolve("profile.img"), 1 << 20, 3, false);
      Result up =
          fx.run(env, "-c", "lab", "--password-file", pw.toString(), "upload", src.toString());
      assertThat(up.exit()).as(up.toString()).isZero();
      assertThat(up.out()).contains("uploaded");
      // ovirt-img's profile file and its "secure = no" work unchanged.
      Path ovirtImg = home.resolve(".config/ovirt-img.conf");
      Files.writeString(
          ovirtImg,
          "[old]\n"
              + "engine_url = " + sb.get("DISKFERRY_ENGINE_URL") + "\n"
              + "username = " + sb.get("DISKFERRY_USERNAME") + "\n"
              + "secure = no\n");
      Result old = fx.run(env, "-c", "old", "--password-file", pw.toString(), "list");
      assertThat(old.exit()).as(old.toString()).isZero();
      assertThat(old.err()).contains("--insecure");

      Result noProfile = fx.run(env, "-c", "nope", "list");
      assertThat(noProfile.exit()).isEqualTo(2);
      assertThat(noProfile.err()).contains("nope");
    }
  }
}
