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

  @Test
  void aNameAlreadyTakenIsAWarningOrWithUniqueNameARefusal() throws IOException {
    Path src = SandboxFixture.image(dir.resolve("taken.img"), 1 << 20, 2, false);
    String first = upload(src, "taken");
    Result again = fx.run("upload", src.toString(), "--name", "taken");
    assertThat(again.exit()).as(again.toString()).isZero();
    assertThat(again.err()).contains("diskferry: warning: 1 disk is already named 'taken' ("
        + first + "); a download by that name will be ambiguous (--unique-name refuses instead)");

    Result refused = fx.run("upload", src.toString(), "--name", "taken", "--unique-name");
    assertThat(refused.exit()).as(refused.toString()).isEqualTo(5);
    assertThat(refused.err().lines().filter(l -> l.startsWith("diskferry: error: ")).toList())
        .singleElement().asString()
        .startsWith("diskferry: error: 2 disks are already named 'taken' (")
        .endsWith("; choose another --name, or leave out --unique-name to add one more");
    Result list = fx.run("-o", "json", "list");
    long named = 0;
    for (var d : Json.mapper().readTree(list.out())) {
      named += d.path("name").asText().equals("taken") ? 1 : 0;
    }
    assertThat(named).isEqualTo(2); // nothing was created by the refused run
    assertThat(fx.journals().list()).isEmpty();
  }
}
