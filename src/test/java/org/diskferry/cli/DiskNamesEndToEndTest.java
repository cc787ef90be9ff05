package org.diskferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.file.Path;
import org.diskferry.cli.SandboxFixture.Result;
import org.diskferry.http.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Disks found by name: an ambiguous name lists the ids to choose from. */
class DiskNamesEndToEndTest {

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

  private static String upload(Path src, String name) throws IOException {
    Result r = fx.run("-o", "json", "upload", src.toString(), "--name", name);
    assertThat(r.exit()).as(r.toString()).isZero();
    return Json.mapper().readTree(r.out()).get("disk_id").asText();
  }

  @Test
  void anAmbiguousNameListsTheCandidatesIds() throws IOException {
    Path src = SandboxFixture.image(dir.resolve("twice.img"), 1 << 20, 1, false);
    String first = upload(src, "twice");
    String second = upload(src, "twice");
    Path out = dir.resolve("twice.raw");
    Result r = fx.run("download", "twice", out.toString());
    assertThat(r.exit()).as(r.toString()).isEqualTo(2);
    assertThat(r.err().lines().toList()).hasSize(1);
    assertThat(r.err())
        .startsWith("diskferry: error: 2 disks are named 'twice' (")
        .contains(first)
        .contains(second)
        .contains("give the disk id instead");
    assertThat(out).doesNotExist();
    assertThat(dir.resolve("twice.raw.part")).doesNotExist();
  }
}
