package org.diskferry.cli;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.diskferry.cli.SandboxFixture.Result;
import org.diskferry.http.Json;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * New disks get the image's virtual size, a sparse qcow2 disk the initial size its data needs
 * (what {@code qemu-img measure} says), an ISO image content type iso: as the sandbox recorded.
 */
class DiskSizingEndToEndTest {

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

  /** What the sandbox recorded when it created the disk of this upload. */
  static JsonNode created(Result up) throws IOException {
    assertThat(up.exit()).as(up.toString()).isZero();
    String disk = Json.mapper().readTree(up.out()).get("disk_id").asText();
    Path img = fx.sandbox.diskFile(disk).orElseThrow();
    return Json.mapper().readTree(img.resolveSibling(disk + ".json").toFile());
  }

  static JsonNode measure(Path image) throws Exception {
    return Json.mapper()
        .readTree(
            DownloadFormatsEndToEndTest.sh(
                "qemu-img", "measure", "--output=json", "-O", "qcow2", image.toString()));
  }

  @Test
  void aSparseQcow2DiskGetsTheInitialSizeOfItsData() throws Exception {
    Path q = dir.resolve("data.qcow2");
    DownloadFormatsEndToEndTest.sh("qemu-img", "create", "-q", "-f", "qcow2", q.toString(), "3G");
    DownloadFormatsEndToEndTest.qemuIo(
        q, "qcow2", "write -P 1 7k 3m", "write -z 12m 2m", "write -P 2 2047m 5m");
    JsonNode d = created(fx.run("-o", "json", "upload", q.toString(), "--name", "sized"));
    assertThat(d.get("format").asText()).isEqualTo("cow");
    assertThat(d.get("provisioned_size").asLong()).isEqualTo(3L << 30);
    assertThat(d.get("initial_size").asLong()).isEqualTo(measure(q).get("required").asLong());
    assertThat(d.get("content_type").asText()).isEqualTo("data");

    // into a raw disk, or a preallocated one: no initial size
    JsonNode raw = created(fx.run("-o", "json", "upload", q.toString(), "-f", "raw"));
    assertThat(raw.has("initial_size")).isFalse();
    assertThat(raw.get("provisioned_size").asLong()).isEqualTo(3L << 30);
  }

  @Test
  void aSparseRawSourceIntoAQcow2DiskIsMeasuredFromItsHolesOrCountedFull() throws Exception {
    long size = 256L << 20;
    Path raw =
        DownloadFormatsEndToEndTest.sparseRaw(dir.resolve("holes.raw"), size,
            new long[] {12_345, 1 << 20}, new long[] {(100L << 20) + 1, 70_000});
    JsonNode d = created(fx.run("-o", "json", "upload", raw.toString(), "-f", "qcow2"));
    JsonNode m = measure(raw);
    // the holes found without reading (Java 22+), or every byte when the JDK cannot find them
    assertThat(d.get("initial_size").asLong())
        .isIn(m.get("required").asLong(), m.get("fully-allocated").asLong());
    assertThat(d.get("provisioned_size").asLong()).isEqualTo(size);
  }

  @Test
  void anIsoImageMakesAnIsoDisk() throws Exception {
    byte[] data = new byte[1 << 20];
    data[0x8000] = 1;
    System.arraycopy("CD001".getBytes(StandardCharsets.US_ASCII), 0, data, 0x8001, 5);
    Path iso = Files.write(dir.resolve("boot.iso"), data);
    JsonNode d = created(fx.run("-o", "json", "upload", iso.toString()));
    assertThat(d.get("content_type").asText()).isEqualTo("iso");
    assertThat(d.get("format").asText()).isEqualTo("raw");
    assertThat(d.has("initial_size")).isFalse();
  }
}
