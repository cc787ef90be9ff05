package org.diskferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.diskferry.cli.SandboxFixture.Result;
import org.diskferry.http.Json;
import org.diskferry.sandbox.FaultSpec;
import org.diskferry.sandbox.Sandbox;
import org.diskferry.sandbox.SandboxConfig;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Each sandbox fault alone, and all of them mixed, with 1 and 8 workers: the upload and the
 * download both succeed without a resume, and the bytes come back identical.
 */
class FaultMatrixTest {

  @TempDir Path dir;

  @ParameterizedTest(name = "{0} with {1} workers")
  @CsvSource(
      delimiter = ';',
      value = {
        "reset:after=100K:rate=0.2,seed=1; 1",
        "reset:after=100K:rate=0.2,seed=1; 8",
        "status:code=503:rate=0.2:retry-after=0,seed=2; 1",
        "status:code=500:rate=0.2,seed=2; 8",
        "stall:ms=150:rate=0.2,seed=3; 1",
        "stall:ms=150:rate=0.2,seed=3; 8",
        "expire:after=5; 1",
        "expire:after=5; 8",
        "pause:after=7; 1",
        "pause:after=7; 8",
        "lose-ticket:after=12; 1",
        "lose-ticket:after=12; 8",
        "restart:after=9; 1",
        "restart:after=9; 8",
        "idle-close:ms=50; 8",
        "reset:after=64K:rate=0.1,status:code=503:rate=0.1,stall:ms=50:rate=0.1,expire:after=11,"
            + "pause:after=23,seed=4; 1",
        "reset:after=64K:rate=0.1,status:code=503:rate=0.1,stall:ms=50:rate=0.1,expire:after=11,"
            + "pause:after=23,seed=4; 8"
      })
  void transfersSurviveFaults(String faults, int workers) throws IOException {
    Sandbox sandbox =
        Sandbox.start(
            SandboxConfig.defaults()
                .withDataDir(dir.resolve("sandbox"))
                .withTick(Duration.ofMillis(20))
                .withDiskReadyDelay(Duration.ofMillis(50)));
    try (SandboxFixture fx = new SandboxFixture(dir, sandbox)) {
      FaultSpec.parse(faults).install(sandbox);
      Path src = SandboxFixture.image(dir.resolve("src.img"), (4 << 20) + 4321, workers, true);
      String w = String.valueOf(workers);
      Result up =
          fx.run("-o", "json", "upload", src.toString(), "--workers", w, "--buffer-size", "64K",
              "--range-size", "256K", "--retry-delay", "5", "--retries", "8");
      assertThat(up.exit()).as(up.toString()).isZero();
      JsonNode j = Json.mapper().readTree(up.out());
      Path back = dir.resolve("back.img");
      Result down =
          fx.run("-o", "json", "download", j.get("disk_id").asText(), back.toString(),
              "--workers", w, "--range-size", "256K", "--retry-delay", "5", "--retries", "8");
      assertThat(down.exit()).as(down.toString()).isZero();
      assertThat(Files.mismatch(src, back)).isEqualTo(-1L);
    }
  }
}
