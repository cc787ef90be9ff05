package org.diskferry.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;
import org.diskferry.error.DiskferryException;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Every image is checked against {@code qemu-img convert -O raw} and {@code qemu-img map}. */
class Qcow2ReaderTest {
  @TempDir Path dir;

  @BeforeEach
  void qemu() {
    Tools.assumeQemu();
  }

  private Path create(String name, String opts, String size) throws Exception {
    Path p = dir.resolve(name);
    Tools.qemuImg("create", "-f", "qcow2", "-o", opts, p.toString(), size);
    return p;
  }

  private static final String[] COMMON = {
    "write -P 0xab 0 64k",
    "write -P 0xcd 1000k 100k", // not cluster-aligned, crosses a cluster boundary
    "write -z 3M 128k",
    "write -P 0x22 5M 256k",
    "write -z 5184k 64k", // over data: a zero cluster that keeps its allocation
    "discard 5248k 64k",
    "write -P 0x11 10M 3584", // the partial last cluster
    "write -P 0x5a 7777k 1536", // sector-aligned, not cluster-aligned
  };

  @Test
  void v2With64kClusters() throws Exception {
    Path p = create("v2.qcow2", "compat=0.10", "10489344"); // 10M + 3584
    Tools.qemuIo(p, "qcow2", COMMON);
    assertThat(ImageInspector.inspect(p).qcow2().version()).isEqualTo(2);
    ImageChecks.checkImage(p, "qcow2", dir);
  }

  @Test
  void v3With64kClustersAndZeroClusters() throws Exception {
    Path p = create("v3.qcow2", "compat=1.1", "10489344");
    Tools.qemuIo(p, "qcow2", COMMON);
    List<Extent> ex;
    try (Qcow2Reader r = Qcow2Reader.open(p)) {
      ex = r.extents();
    }
    // the zeroed data cluster is a zero extent even though it stays allocated
    assertThat(ex).anySatisfy(e -> {
      assertThat(e.zero()).isTrue();
      assertThat(e.start()).isLessThanOrEqualTo(5184 * 1024);
      assertThat(e.end()).isGreaterThanOrEqualTo(5248 * 1024);
    });
    ImageChecks.checkImage(p, "qcow2", dir);
  }

  @Test
  void v3With2MiBClusters() throws Exception {
    Path p = create("big.qcow2", "cluster_size=2M", "22020608"); // 21M + 512
    Tools.qemuIo(
        p, "qcow2", "write -P 0xab 0 64k", "write -P 0xcd 3076k 3M", "write -z 8M 2M",
        "write -P 0x33 21M 512", "write -P 0x44 12M 2M", "write -z 12M 2M");
    ImageChecks.checkImage(p, "qcow2", dir);
  }

  @Test
  void smallClustersSpanManyL2Tables() throws Exception {
    // 512-byte clusters: one L2 table maps 32 KiB, so this image has 96 of them
    Path p = create("small.qcow2", "cluster_size=512", "3M");
    Tools.qemuIo(
        p, "qcow2", "write -P 0x01 0 100k", "write -P 0x02 1000k 1k", "write -z 20k 10k",
        "write -P 0x03 3071k 1k");
    ImageChecks.checkImage(p, "qcow2", dir);
    Path q = create("4k.qcow2", "cluster_size=4096", "20M");
    Tools.qemuIo(
        q, "qcow2", "write -P 0x01 5M 4k", "write -P 0x02 19M 1M", "write -z 19M 8k",
        "write -P 0x03 100000 5000");
    ImageChecks.checkImage(q, "qcow2", dir);
  }

  @Test
  void emptyAndPreallocatedImages() throws Exception {
    Path empty = create("empty.qcow2", "compat=1.1", "0");
    try (ImageReader r = ImageReaders.open(empty)) {
      assertThat(r.size()).isZero();
      assertThat(r.extents()).isEmpty();
      assertThat(r.read(0, ByteBuffer.allocate(10))).isEqualTo(-1);
    }
    Path unwritten = create("unwritten.qcow2", "compat=1.1", "1G");
    try (ImageReader r = ImageReaders.open(unwritten)) {
      assertThat(r.extents()).containsExactly(new Extent(0, 1L << 30, true));
      ByteBuffer b = ByteBuffer.allocate(1 << 20);
      assertThat(r.read((1L << 30) - 1000, b)).isEqualTo(1000);
    }
    Path meta = create("meta.qcow2", "preallocation=metadata", "5M");
    Tools.qemuIo(meta, "qcow2", "write -P 0x77 1M 64k");
    ImageChecks.checkImage(meta, "qcow2", dir);
  }

  /** A raw image with random (incompressible), compressible and zero parts. */
  private Path mixedRaw(String name, int size) throws IOException {
    byte[] data = new byte[size];
    Random rnd = new Random(42);
    byte[] noise = new byte[200_000];
    rnd.nextBytes(noise);
    System.arraycopy(noise, 0, data, 70_000, noise.length);
    StringBuilder text = new StringBuilder();
    for (int i = 0; text.length() < 3_000_000; i++) {
      text.append("line ").append(i).append(": ").append(Integer.toHexString(i * 31337)).append('\n');
    }
    byte[] t = text.toString().getBytes(StandardCharsets.US_ASCII);
    System.arraycopy(t, 0, data, 1_500_000, t.length);
    java.util.Arrays.fill(data, 6_000_000, 6_100_000, (byte) 0x5c);
    data[size - 1] = 1;
    Path p = dir.resolve(name);
    Files.write(p, data);
    return p;
  }

  @Test
  void compressedDeflate() throws Exception {
    Path raw = mixedRaw("mixed.raw", 9_000_448);
    for (String opts : new String[] {"compat=1.1", "compat=0.10", "cluster_size=2M", "cluster_size=4k"}) {
      Path p = dir.resolve("c-" + opts.replace('=', '-') + ".qcow2");
      Tools.qemuImg("convert", "-c", "-O", "qcow2", "-o", opts, raw.toString(), p.toString());
      ImageChecks.checkImage(p, "qcow2", dir);
    }
    // compressed writes into an image that also has plain data and zero clusters
    Path mix = create("mixc.qcow2", "compat=1.1", "4M");
    Tools.qemuIo(
        mix, "qcow2", "write -c -P 0x61 0 64k", "write -P 0x62 64k 64k", "write -c -P 0x63 1M 128k",
        "write -z 1M 64k");
    ImageChecks.checkImage(mix, "qcow2", dir);
  }

  @Test
  void compressedZstd() throws Exception {
    Tools.assumeQemuZstd();
    Path raw = mixedRaw("mixedz.raw", 9_000_448);
    for (String opts : new String[] {"compat=1.1", "cluster_size=2M", "cluster_size=4k",
        "extended_l2=on"}) {
      Path p = dir.resolve("z-" + opts.replace('=', '-') + ".qcow2");
      Tools.qemuImg("convert", "-c", "-O", "qcow2", "-o", "compression_type=zstd," + opts,
          raw.toString(), p.toString());
      assertThat(ImageInspector.inspect(p).qcow2().compressionType()).isEqualTo(1);
      ImageChecks.checkImage(p, "qcow2", dir);
      try (ImageReader r = ImageReaders.open(p)) {
        ImageChecks.assertSameBytes(
            ImageChecks.readAll(r, 1 << 20), Files.readAllBytes(raw), p + " vs the raw source");
      }
    }
    Path mix = create("mixz.qcow2", "compression_type=zstd", "4M");
    Tools.qemuIo(
        mix, "qcow2", "write -c -P 0x61 0 64k", "write -P 0x62 64k 64k", "write -c -P 0x63 1M 128k",
        "write -z 1M 64k");
    ImageChecks.checkImage(mix, "qcow2", dir);
  }

  @Test
  void damagedZstdClusterIsAnIoError() throws Exception {
    Tools.assumeQemuZstd();
    StringBuilder text = new StringBuilder();
    for (int i = 0; text.length() < 1 << 20; i++) {
      text.append("line ").append(i).append('\n');
    }
    Path raw = dir.resolve("dz.raw");
    Files.write(raw, java.util.Arrays.copyOf(text.toString().getBytes(StandardCharsets.US_ASCII),
        1 << 20));
    Path p = dir.resolve("dz.qcow2");
    Tools.qemuImg("convert", "-c", "-O", "qcow2", "-o", "compression_type=zstd", raw.toString(),
        p.toString());
    long host;
    Qcow2Header h = ImageInspector.inspect(p).qcow2();
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      ByteBuffer b = ByteBuffer.allocate(8);
      Qcow2Header.readFully(ch, b, h.l1TableOffset(), 8);
      long l2 = b.getLong(0) & 0x00fffffffffffe00L;
      Qcow2Header.readFully(ch, b.clear(), l2 + 8 * 2, 8); // the third cluster
      long entry = b.getLong(0);
      assertThat(entry & (1L << 62)).as("compressed").isNotZero();
      host = entry & ((1L << (62 - 8)) - 1);
      ch.write(ByteBuffer.wrap(new byte[] {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd, 0x04, 0x00}),
          host); // a frame header with a reserved window and then garbage
    }
    try (ImageReader r = ImageReaders.open(p)) {
      assertThatThrownBy(() -> r.read(2 * 65536, ByteBuffer.allocate(65536)))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("damaged qcow2")
          .hasMessageContaining("zstd");
    }
  }

  @Test
  void extendedL2() throws Exception {
    Path p = create("ext.qcow2", "extended_l2=on", "8M"); // 64k clusters, 2k subclusters
    Tools.qemuIo(
        p, "qcow2", "write -P 0xab 2k 2k", "write -P 0xcd 6k 4k", "write -z 8k 2k",
        "write -P 0xee 64k 64k", "write -z 70k 2k", "write -P 0x12 100000 1000",
        "write -z 1M 128k", "write -P 0x34 3M 6k", "discard 3M 2k");
    assertThat(ImageInspector.inspect(p).qcow2().extendedL2()).isTrue();
    ImageChecks.checkImage(p, "qcow2", dir);

    Path raw = mixedRaw("mixed2.raw", 9_000_448);
    Path c = dir.resolve("ext-c.qcow2");
    Tools.qemuImg(
        "convert", "-c", "-O", "qcow2", "-o", "extended_l2=on", raw.toString(), c.toString());
    ImageChecks.checkImage(c, "qcow2", dir);

    Path big = create("ext2m.qcow2", "extended_l2=on,cluster_size=2M", "9M");
    Tools.qemuIo(big, "qcow2", "write -P 0x01 64k 64k", "write -z 4M 128k", "write -P 0x02 8M 1M");
    ImageChecks.checkImage(big, "qcow2", dir);
  }

  @Test
  void fromSparseRaw() throws Exception {
    Path raw = dir.resolve("sparse.raw");
    try (FileChannel ch = FileChannel.open(raw, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3}), 4_000_001);
      ch.write(ByteBuffer.wrap("tail".getBytes(StandardCharsets.US_ASCII)), 12_345_678);
    }
    Path p = dir.resolve("from-raw.qcow2");
    Tools.qemuImg("convert", "-O", "qcow2", raw.toString(), p.toString());
    ImageChecks.checkImage(p, "qcow2", dir);
  }

  @Test
  void damagedL2OffsetIsAnIoError() throws Exception {
    Path p = create("bad.qcow2", "compat=1.1", "1M");
    Tools.qemuIo(p, "qcow2", "write -P 0xab 0 64k");
    Qcow2Header h = ImageInspector.inspect(p).qcow2();
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.allocate(8).putLong(0, (1L << 63) | (1L << 40)), h.l1TableOffset());
    }
    // Inspection refuses it before anything reads it; a reader opened without inspection still
    // does not read garbage.
    assertThatThrownBy(() -> ImageReaders.open(p))
        .isInstanceOf(DiskferryException.class)
        .hasMessageContaining("damaged qcow2")
        .hasMessageContaining("L2 table for guest offset 0");
    try (ImageReader r = new Qcow2Reader(p, h)) {
      assertThatThrownBy(() -> r.read(0, ByteBuffer.allocate(512)))
          .isInstanceOf(IOException.class)
          .hasMessageContaining("damaged qcow2")
          .hasMessageContaining("L2 table offset");
    }
  }

  @Test
  void openRejectsNonQcow2() throws Exception {
    Path raw = Files.write(dir.resolve("r.img"), new byte[4096]);
    assertThatThrownBy(() -> Qcow2Reader.open(raw))
        .isInstanceOf(DiskferryException.class)
        .hasMessageContaining("not a qcow2 image");
  }
}
