package org.diskferry.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.diskferry.error.DiskferryException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Truncated and damaged qcow2 images are refused at inspection, and the sources of uploads. */
class Qcow2BoundsTest {
  @TempDir Path dir;

  /** 8 MiB of random data at the start of a 64 MiB disk, as qcow2 (qemu-img convert). */
  private Path qcow2(String name, String... convertOptions) throws Exception {
    Path raw = dir.resolve(name + ".raw");
    byte[] data = new byte[8 << 20];
    if (convertOptions.length > 0) {
      // compressible, so that the clusters are really stored compressed
      // compressible only in half, so that there are many compressed clusters after the tables
      new Random(7).nextBytes(data);
      for (int i = 0; i < data.length; i++) {
        if ((i & 0xffff) >= 0x8000) {
          data[i] = (byte) ('a' + i % 26);
        }
      }
    } else {
      new Random(7).nextBytes(data);
    }
    Files.write(raw, data);
    try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.WRITE)) {
      ch.truncate(64 << 20);
      ch.write(ByteBuffer.wrap(new byte[] {1}), (64 << 20) - 1);
    }
    Path q = dir.resolve(name + ".qcow2");
    String[] args = new String[convertOptions.length + 6];
    args[0] = "convert";
    args[1] = "-f";
    args[2] = "raw";
    args[3] = "-O";
    args[4] = "qcow2";
    System.arraycopy(convertOptions, 0, args, 5, convertOptions.length);
    args[args.length - 1] = raw.toString();
    String[] withOut = java.util.Arrays.copyOf(args, args.length + 1);
    withOut[withOut.length - 1] = q.toString();
    Tools.qemuImg(withOut);
    return q;
  }

  private static DiskferryException refused(Path p) {
    try {
      ImageInspector.inspect(p);
    } catch (DiskferryException e) {
      assertThat(e.kind()).isEqualTo(DiskferryException.Kind.BAD_INPUT);
      assertThat(e.getMessage()).doesNotContain("\n").contains(p.toString());
      return e;
    }
    throw new AssertionError(p + " was accepted");
  }

  private static void truncate(Path p, long size) throws IOException {
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
      ch.truncate(size);
    }
  }

  @Test
  void truncatedToHalfIsRefusedNamingTheClusterBeyondTheEnd() throws Exception {
    Tools.assumeQemu();
    Path p = qcow2("half");
    assertThat(ImageInspector.inspect(p).format()).isEqualTo(ImageFormat.QCOW2);
    truncate(p, Files.size(p) / 2);
    assertThat(refused(p).getMessage())
        .contains("damaged qcow2 image")
        .contains("beyond the end of the file (" + Files.size(p) + " bytes)")
        .contains("qemu-img check");
  }

  @Test
  void aLastClusterCutShortIsAcceptedAsQemuDoes() throws Exception {
    Tools.assumeQemu();
    Path p = qcow2("short");
    // The last data cluster loses its last bytes: QEMU reads them as zeros, so does the reader.
    truncate(p, Files.size(p) - 100);
    assertThat(ImageInspector.inspect(p).format()).isEqualTo(ImageFormat.QCOW2);
  }

  @ParameterizedTest
  @ValueSource(strings = {"zlib", "zstd"})
  void truncatedCompressedImageIsRefused(String type) throws Exception {
    if (type.equals("zstd")) {
      Tools.assumeQemuZstd();
    } else {
      Tools.assumeQemu();
    }
    Path p = qcow2("c-" + type, "-c", "-o", "compression_type=" + type);
    truncate(p, Files.size(p) * 2 / 3);
    assertThat(refused(p).getMessage()).contains("compressed cluster").contains("beyond the end");
  }

  @Test
  void anL2TableBeyondTheEndIsRefused() throws Exception {
    Tools.assumeQemu();
    Path p = qcow2("l2");
    Qcow2Header h = ImageInspector.inspect(p).qcow2();
    long far = Files.size(p) + (1L << 30);
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.allocate(8).putLong(0, far | (1L << 63)), h.l1TableOffset());
    }
    assertThat(refused(p).getMessage())
        .contains("the L2 table for guest offset 0 is at offset " + far);
  }

  @Test
  void aRefcountTableOrBlockBeyondTheEndIsRefused() throws Exception {
    Tools.assumeQemu();
    Path p = qcow2("refcount");
    Qcow2Header h = ImageInspector.inspect(p).qcow2();
    long far = Files.size(p) + (1L << 30);
    Path block = dir.resolve("block.qcow2");
    Files.copy(p, block);
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.allocate(8).putLong(0, far), 48);
    }
    assertThat(refused(p).getMessage()).contains("the refcount table is at offset " + far);
    try (FileChannel ch = FileChannel.open(block, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.allocate(8).putLong(0, far), h.refcountTableOffset());
    }
    assertThat(refused(block).getMessage()).contains("refcount block 0 is at offset " + far);
  }

  @Test
  void anUploadRefusesAnEmptyFileAndAnEmptyQcow2() throws Exception {
    Path empty = Files.createFile(dir.resolve("empty.img"));
    assertThatThrownBy(() -> ImageInspector.inspectUpload(empty, false, "x"))
        .hasMessage(empty + " is empty (0 bytes); there is nothing to upload");
    Tools.assumeQemu();
    Path zero = dir.resolve("zero.qcow2");
    Tools.qemuImg("create", "-f", "qcow2", zero.toString(), "0");
    assertThatThrownBy(() -> ImageInspector.inspectUpload(zero, false, "x"))
        .hasMessageContaining("virtual size 0");
  }

  @Test
  void aFileNamedQcow2WithoutItsMagicIsRawOnlyWhenTheUserSaysSo() throws Exception {
    Tools.assumeQemu();
    Path p = qcow2("magic");
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap("XXXX".getBytes(java.nio.charset.StandardCharsets.US_ASCII)), 0);
    }
    assertThatThrownBy(
            () -> ImageInspector.inspectUpload(p, false, "upload it with --format raw"))
        .isInstanceOf(DiskferryException.class)
        .hasMessageContaining(p + " is named like a qcow2 image but has no qcow2 header")
        .hasMessageEndingWith("if it really is a raw image, upload it with --format raw");
    assertThat(ImageInspector.inspectUpload(p, true, "x").format()).isEqualTo(ImageFormat.RAW);
    // Raw data under a name that promises nothing is raw.
    Path plain = Files.copy(p, dir.resolve("magic.img"));
    assertThat(ImageInspector.inspectUpload(plain, false, "x").format())
        .isEqualTo(ImageFormat.RAW);
  }

  @Test
  void formatsByName() {
    assertThat(ImageInspector.formatByName(Path.of("a/b.QCOW2"))).isEqualTo("qcow2");
    assertThat(ImageInspector.formatByName(Path.of("b.vhd"))).isEqualTo("vhd");
    assertThat(ImageInspector.formatByName(Path.of("b.img"))).isNull();
    assertThat(ImageInspector.formatByName(Path.of("qcow2"))).isNull();
  }
}
