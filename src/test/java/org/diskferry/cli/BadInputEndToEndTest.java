package org.diskferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Stream;
import org.diskferry.cli.SandboxFixture.Result;
import org.diskferry.http.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Bad local input on the way up is refused before anything exists on the engine (exit 2, one line
 * naming what is wrong), and a source that changes during an upload ends it at once with exit 2
 * and no disk left behind.
 */
class BadInputEndToEndTest {

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
  void noFaults() {
    fx.sandbox.setFaultHook(null);
  }

  static int disks() throws IOException {
    return Json.mapper().readTree(fx.run("-o", "json", "list").out()).size();
  }

  static List<Path> journals() throws IOException {
    Path d = dir.resolve("home/.local/state/diskferry");
    if (!Files.isDirectory(d)) {
      return List.of();
    }
    try (Stream<Path> s = Files.list(d)) {
      return s.filter(p -> p.getFileName().toString().endsWith(".json")).toList();
    }
  }

  /** Exit 2, one error line holding {@code parts}, no stack trace, no disk and no journal. */
  static void refused(int disksBefore, Result r, String... parts) throws IOException {
    assertThat(r.exit()).as(r.toString()).isEqualTo(2);
    List<String> errors = r.err().lines().filter(l -> l.startsWith("diskferry: error: ")).toList();
    assertThat(errors).as(r.toString()).hasSize(1);
    assertThat(errors.get(0)).contains(parts);
    assertThat(r.err()).doesNotContain("\tat ").doesNotContain("Exception");
    assertThat(disks()).isEqualTo(disksBefore);
    assertThat(journals()).isEmpty();
  }

  static Path smallQcow2(String name) throws Exception {
    Path raw = SandboxFixture.image(dir.resolve(name + ".raw"), 4 << 20, 5, false);
    Path q = dir.resolve(name);
    ImageFormatsEndToEndTest.qemuImg(
        "convert", "-f", "raw", "-O", "qcow2", raw.toString(), q.toString());
    return q;
  }

  @Test
  void aTruncatedQcow2IsRefusedBeforeTheDiskExists() throws Exception {
    Path good = smallQcow2("good.qcow2");
    Path t = Files.copy(good, dir.resolve("t.qcow2"));
    try (FileChannel ch = FileChannel.open(t, StandardOpenOption.WRITE)) {
      ch.truncate(Files.size(good) / 2);
    }
    int before = disks();
    refused(before, fx.run("upload", t.toString(), "--verify"),
        t + " is a damaged qcow2 image", "beyond the end of the file", "qemu-img check");
  }

  @Test
  void aQcow2WithoutItsHeaderIsRawOnlyWithFormatRaw() throws Exception {
    Path q = Files.copy(smallQcow2("hdr.qcow2"), dir.resolve("nomagic.qcow2"));
    try (FileChannel ch = FileChannel.open(q, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {'X', 'X', 'X', 'X'}), 0);
    }
    int before = disks();
    refused(before, fx.run("upload", q.toString()),
        "is named like a qcow2 image but has no qcow2 header",
        "upload it with --format raw (or rename it)");
    refused(before, fx.run("upload", q.toString(), "-f", "qcow2"), "has no qcow2 header");
    Result raw = fx.run("-o", "json", "upload", q.toString(), "-f", "raw", "--name", "nomagic");
    assertThat(raw.exit()).as(raw.toString()).isZero();
    assertThat(Json.mapper().readTree(raw.out()).get("bytes").asLong()).isEqualTo(Files.size(q));
  }

  @Test
  void anEmptyFileIsRefused() throws Exception {
    Path empty = Files.createFile(dir.resolve("empty.img"));
    int before = disks();
    refused(before, fx.run("upload", empty.toString()), "is empty (0 bytes)");
    Path zero = dir.resolve("zero.qcow2");
    ImageFormatsEndToEndTest.qemuImg("create", "-f", "qcow2", zero.toString(), "0");
    refused(before, fx.run("upload", zero.toString()), "virtual size 0");
  }

  @Test
  void anEmptyOrBlankNameIsRefused() throws Exception {
    Path src = SandboxFixture.image(dir.resolve("named.img"), 1 << 20, 1, false);
    int before = disks();
    refused(before, fx.run("upload", src.toString(), "--name", ""), "--name is empty");
    refused(before, fx.run("upload", src.toString(), "--name", "  \t"), "--name is empty");
    refused(before, fx.run("upload", src.toString(), "--name", "a\nb"), "control characters");
  }

  @Test
  void dashIsNotStdinOrStdout() throws Exception {
    Path src = SandboxFixture.image(dir.resolve("dash.img"), 1 << 20, 2, false);
    Result up = fx.run("-o", "json", "upload", src.toString(), "--name", "dash");
    assertThat(up.exit()).as(up.toString()).isZero();
    String disk = Json.mapper().readTree(up.out()).get("disk_id").asText();
    int before = disks();
    refused(before, fx.run("upload", "-"), "reading the image from stdin is not supported",
        "./- for a file named -");
    Result down = fx.run("download", disk, "-");
    assertThat(down.exit()).as(down.toString()).isEqualTo(2);
    assertThat(down.err()).contains("writing the image to stdout is not supported");
    assertThat(Path.of("-")).doesNotExist();
    assertThat(Path.of("-.part")).doesNotExist();
    assertThat(journals()).isEmpty();
  }

  /** Uploads {@code src} while the first data request changes it; returns the result. */
  Result uploadWhileChanging(Path src, boolean shrink) throws IOException {
    AtomicBoolean done = new AtomicBoolean();
    fx.sandbox.setFaultHook(r -> {
      if (r.dataPlane() && r.method().equals("PUT") && done.compareAndSet(false, true)) {
        try (FileChannel ch = FileChannel.open(src, StandardOpenOption.WRITE)) {
          if (shrink) {
            ch.truncate(1 << 20);
          } else {
            ch.write(ByteBuffer.wrap(new byte[] {9, 9, 9}), 3 << 20);
            Files.setLastModifiedTime(
                src, FileTime.fromMillis(System.currentTimeMillis() + 5000));
          }
        } catch (IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      }
      return null;
    });
    return fx.run("upload", src.toString(), "--name", "changing", "--workers", "1",
        "--buffer-size", "256K", "--range-size", "1M");
  }

  @Test
  void aSourceThatShrinksDuringTheUploadIsExit2AndLeavesNoDisk() throws Exception {
    Path src = SandboxFixture.image(dir.resolve("shrinks.img"), 8 << 20, 3, false);
    int before = disks();
    long t0 = System.nanoTime();
    Result r = uploadWhileChanging(src, true);
    refused(before, r, src + " changed while it was being uploaded");
    assertThat(r.err()).doesNotContain("retrying");
    assertThat(System.nanoTime() - t0).isLessThan(TimeUnit.SECONDS.toNanos(20));
  }

  @Test
  void aSourceChangedInPlaceDuringTheUploadIsExit2AndLeavesNoDisk() throws Exception {
    Path src = SandboxFixture.image(dir.resolve("changes.img"), 8 << 20, 4, false);
    int before = disks();
    refused(before, uploadWhileChanging(src, false), "changed while it was being uploaded");
  }
}
