package org.diskferry.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import java.util.zip.GZIPOutputStream;
import org.diskferry.error.DiskferryException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ImageInspectorTest {
  @TempDir Path dir;

  private static DiskferryException badInput(Path p) {
    try {
      ImageInspector.inspect(p);
    } catch (DiskferryException e) {
      assertThat(e.kind()).isEqualTo(DiskferryException.Kind.BAD_INPUT);
      assertThat(e.getMessage()).doesNotContain("\n");
      return e;
    }
    throw new AssertionError(p + " was accepted");
  }

  @Test
  void rawIsoAndEmpty() throws IOException {
    Path raw = dir.resolve("disk.img");
    byte[] data = new byte[100_000];
    new Random(1).nextBytes(data);
    data[0] = (byte) 0xeb; // like a boot sector, not a magic number
    Files.write(raw, data);
    ImageInfo info = ImageInspector.inspect(raw);
    assertThat(info.format()).isEqualTo(ImageFormat.RAW);
    assertThat(info.virtualSize()).isEqualTo(100_000);
    assertThat(info.fileSize()).isEqualTo(100_000);
    assertThat(info.qcow2()).isNull();

    Path iso = dir.resolve("cd.iso");
    byte[] isoData = new byte[0x9000];
    isoData[0x8000] = 1;
    System.arraycopy("CD001".getBytes(StandardCharsets.US_ASCII), 0, isoData, 0x8001, 5);
    Files.write(iso, isoData);
    assertThat(ImageInspector.inspect(iso).format()).isEqualTo(ImageFormat.ISO);
    assertThat(ImageFormat.ISO.diskFormat()).isEqualTo("raw");

    Path empty = Files.createFile(dir.resolve("empty.img"));
    assertThat(ImageInspector.inspect(empty).virtualSize()).isZero();
  }

  @Test
  void missingAndDirectory() {
    assertThat(badInput(dir.resolve("nope.img")).getMessage()).contains("no such file");
    assertThat(badInput(dir).getMessage()).contains("directory");
  }

  @Test
  void compressedArchive() throws IOException {
    Path gz = dir.resolve("disk.img.gz");
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
      out.write(new byte[4096]);
    }
    assertThat(badInput(gz).getMessage()).contains("gzip").contains("decompress");
  }

  @Test
  void qcowVersion1() throws IOException {
    Path p = dir.resolve("old.qcow");
    ByteBuffer b = ByteBuffer.allocate(512).putInt(Qcow2Header.MAGIC).putInt(1);
    Files.write(p, b.array());
    assertThat(badInput(p).getMessage())
        .contains("qcow (version 1)")
        .contains("qemu-img convert -f qcow -O qcow2");
  }

  @Test
  void qcow2HeaderV2AndV3() throws Exception {
    Tools.assumeQemu();
    Path v2 = dir.resolve("v2.qcow2");
    Tools.qemuImg("create", "-f", "qcow2", "-o", "compat=0.10", v2.toString(), "10M");
    ImageInfo i2 = ImageInspector.inspect(v2);
    assertThat(i2.format()).isEqualTo(ImageFormat.QCOW2);
    assertThat(i2.virtualSize()).isEqualTo(10 << 20);
    assertThat(i2.fileSize()).isEqualTo(Files.size(v2));
    Qcow2Header h2 = i2.qcow2();
    assertThat(h2.version()).isEqualTo(2);
    assertThat(h2.size()).isEqualTo(10 << 20);
    assertThat(h2.clusterBits()).isEqualTo(16);
    assertThat(h2.clusterSize()).isEqualTo(65536);
    assertThat(h2.incompatibleFeatures()).isZero();
    assertThat(h2.compressionType()).isZero();
    assertThat(h2.backingFile()).isNull();
    assertThat(h2.extendedL2()).isFalse();
    assertThat(h2.l1Size()).isGreaterThanOrEqualTo(1);
    assertThat(h2.l1TableOffset()).isPositive();
    assertThat(h2.refcountTableOffset()).isPositive();

    Path v3 = dir.resolve("v3.qcow2");
    Tools.qemuImg(
        "create", "-f", "qcow2", "-o", "cluster_size=2M,extended_l2=on,lazy_refcounts=on",
        v3.toString(), "1G");
    Qcow2Header h3 = ImageInspector.inspect(v3).qcow2();
    assertThat(h3.version()).isEqualTo(3);
    assertThat(h3.size()).isEqualTo(1L << 30);
    assertThat(h3.clusterBits()).isEqualTo(21);
    assertThat(h3.extendedL2()).isTrue();
    assertThat(h3.compatibleFeatures() & 1).isEqualTo(1); // lazy refcounts
    assertThat(h3.dirty()).isFalse();
    assertThat(h3.corrupt()).isFalse();
    assertThat(h3.crypt()).isZero();
  }

  @Test
  void backingFileRejected() throws Exception {
    Tools.assumeQemu();
    Path base = dir.resolve("base.qcow2");
    Path top = dir.resolve("top.qcow2");
    Tools.qemuImg("create", "-f", "qcow2", base.toString(), "10M");
    Tools.qemuImg(
        "create", "-f", "qcow2", "-b", base.toString(), "-F", "qcow2", top.toString());
    assertThat(badInput(top).getMessage())
        .contains("has a backing file " + base)
        .contains("flatten it first: qemu-img convert -O qcow2 " + top);
  }

  @Test
  void encryptedRejected() throws Exception {
    Tools.assumeQemu();
    Path p = dir.resolve("secret.qcow2");
    // LUKS key setup times PBKDF2 and can fail with "Unable to get accurate CPU usage" on a busy
    // machine: try again a couple of times
    for (int attempt = 1; ; attempt++) {
      try {
        Files.deleteIfExists(p);
        Tools.qemuImg(
            "create", "-f", "qcow2", "--object", "secret,id=sec0,data=x",
            "-o", "encrypt.format=luks,encrypt.key-secret=sec0,encrypt.iter-time=500",
            p.toString(), "10M");
        break;
      } catch (IOException e) {
        if (attempt == 3) {
          throw e;
        }
      }
    }
    assertThat(ImageInspectorTestSupport.header(p).crypt()).isEqualTo(2);
    assertThat(badInput(p).getMessage()).contains("encrypted qcow2 image (LUKS)");

    // the legacy AES method (crypt_method 1), which qemu no longer creates
    Path aes = dir.resolve("aes.qcow2");
    Tools.qemuImg("create", "-f", "qcow2", aes.toString(), "10M");
    try (FileChannel ch = FileChannel.open(aes, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.allocate(4).putInt(0, 1), 32);
    }
    assertThat(badInput(aes).getMessage()).contains("encrypted qcow2 image (AES)");
  }

  @Test
  void zstdAcceptedUnknownCompressionRejected() throws Exception {
    Tools.assumeQemuZstd();
    Path p = dir.resolve("z.qcow2");
    Tools.qemuImg("create", "-f", "qcow2", "-o", "compression_type=zstd", p.toString(), "10M");
    assertThat(ImageInspectorTestSupport.header(p).compressionType()).isEqualTo(1);
    assertThat(ImageInspector.inspect(p).qcow2().compressionType()).isEqualTo(1);

    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {2}), 104);
    }
    assertThat(badInput(p).getMessage())
        .contains("unknown qcow2 compression type 2")
        .contains("qemu-img convert -O qcow2 " + p);
  }

  @Test
  void featureBits() throws Exception {
    Tools.assumeQemu();
    Path p = dir.resolve("f.qcow2");
    Tools.qemuImg("create", "-f", "qcow2", p.toString(), "10M");

    setIncompatible(p, Qcow2Header.INCOMPAT_DIRTY);
    Qcow2Header h = ImageInspector.inspect(p).qcow2();
    assertThat(h.dirty()).isTrue(); // readable: only refcounts may be stale

    setIncompatible(p, Qcow2Header.INCOMPAT_CORRUPT);
    assertThat(badInput(p).getMessage()).contains("marked corrupt").contains("qemu-img check");

    setIncompatible(p, 1L << 9);
    assertThat(badInput(p).getMessage()).contains("bit 9");

    setIncompatible(p, Qcow2Header.INCOMPAT_EXTERNAL_DATA_FILE);
    assertThat(badInput(p).getMessage()).contains("external data file");
  }

  @Test
  void damagedL1Rejected() throws Exception {
    Tools.assumeQemu();
    Path p = dir.resolve("d.qcow2");
    Tools.qemuImg("create", "-f", "qcow2", p.toString(), "10M");
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.allocate(8).putLong(0, 1L << 40), 40); // L1 offset far past the end
    }
    assertThat(badInput(p).getMessage()).contains("damaged qcow2").contains("L1 table offset");
  }

  private static void setIncompatible(Path p, long bits) throws IOException {
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.allocate(8).putLong(0, bits), 72);
    }
  }

  @ParameterizedTest
  @CsvSource({
    "vmdk, , VMDK",
    "vmdk, subformat=streamOptimized, VMDK",
    "vmdk, subformat=monolithicFlat, VMDK",
    "vdi, , VDI",
    "vhdx, , VHDX",
    "vpc, , VHD",
    "vpc, subformat=fixed, VHD",
    "qed, , QED",
    "parallels, , Parallels",
  })
  void otherFormatsRejected(String fmt, String opts, String name) throws Exception {
    Tools.assumeQemu();
    Path p = dir.resolve("disk." + fmt);
    if (opts == null) {
      Tools.qemuImg("create", "-f", fmt, p.toString(), "10M");
    } else {
      Tools.qemuImg("create", "-f", fmt, "-o", opts, p.toString(), "10M");
    }
    assertThat(badInput(p).getMessage())
        .contains(name)
        .contains("convert it with: qemu-img convert -f " + fmt + " -O qcow2 " + p + " ")
        .contains("disk.qcow2");
  }

  @Test
  void shellQuoting() {
    assertThat(ImageInspector.shellQuote("/a/b.img")).isEqualTo("/a/b.img");
    assertThat(ImageInspector.shellQuote("my disk's.img")).isEqualTo("'my disk'\\''s.img'");
    assertThat(ImageInspector.siblingName(Path.of("x/disk.vmdk"), "qcow2"))
        .isEqualTo(Path.of("x/disk.qcow2").toString());
    assertThat(ImageInspector.siblingName(Path.of("disk.qcow2"), "qcow2"))
        .isEqualTo("disk.converted.qcow2");
  }
}
