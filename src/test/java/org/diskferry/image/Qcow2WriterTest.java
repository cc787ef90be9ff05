package org.diskferry.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Qcow2 images written by {@link Qcow2Writer} from extent maps, with the data copied in the way a
 * download does (ranges in random order), checked by {@code qemu-img check} and {@code qemu-img
 * compare} against the raw source and read back by {@link Qcow2Reader}.
 */
class Qcow2WriterTest {
  @TempDir Path dir;

  /** A raw file with random data at these [offset, length] places, zeros elsewhere. */
  private Path raw(String name, long size, long[]... data) throws Exception {
    Path p = dir.resolve(name);
    Random rnd = new Random(name.hashCode());
    try (FileChannel ch =
        FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      for (long[] d : data) {
        byte[] b = new byte[(int) d[1]];
        rnd.nextBytes(b);
        ch.write(ByteBuffer.wrap(b), d[0]);
      }
    }
    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
      f.setLength(size);
    }
    return p;
  }

  /** Extents with data exactly where {@code data} says and zero runs between (like imageio's). */
  private static List<Extent> extents(long size, long[]... data) {
    ExtentList out = new ExtentList();
    long pos = 0;
    for (long[] d : data) {
      out.add(pos, d[0] - pos, true);
      out.add(d[0], d[1], false);
      pos = d[0] + d[1];
    }
    out.add(pos, size - pos, true);
    return out.build();
  }

  /** Writes a qcow2 of {@code src} as a parallel download would, data ranges in random order. */
  private Path write(Path src, List<Extent> extents, int clusterBits) throws Exception {
    long size = Files.size(src);
    Qcow2Writer w = Qcow2Writer.plan(size, extents, clusterBits);
    Path out = dir.resolve(src.getFileName() + "." + clusterBits + ".qcow2");
    try (FileChannel ch =
            FileChannel.open(out, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE);
        FileChannel in = FileChannel.open(src, StandardOpenOption.READ)) {
      w.writeMetadata(ch);
      try (RandomAccessFile f = new RandomAccessFile(out.toFile(), "rw")) {
        f.setLength(w.fileSize());
      }
      List<Extent> data = new ArrayList<>();
      for (Extent e : extents) {
        // split like the orchestrator's ranges, at sizes that do not line up with clusters
        for (long s = e.start(); s < e.end(); s += 300_001) {
          data.add(new Extent(s, Math.min(300_001, e.end() - s), e.zero()));
        }
      }
      Collections.shuffle(data, new Random(5));
      for (Extent e : data) {
        if (!e.zero()) {
          ByteBuffer b = ByteBuffer.allocate((int) e.length());
          in.read(b, e.start());
          ch.write(b.flip(), w.hostOffset(e.start(), e.length()));
        }
      }
      assertThat(w.matches(FileChannel.open(out, StandardOpenOption.READ))).isTrue();
    }
    assertThat(Files.size(out)).isEqualTo(w.fileSize());
    return out;
  }

  private static void assertValidCopy(Path qcow, Path raw) throws Exception {
    Tools.run("qemu-img", "check", "-f", "qcow2", qcow.toString());
    Tools.run("qemu-img", "compare", "-f", "raw", "-F", "qcow2", raw.toString(), qcow.toString());
    try (ImageReader r = ImageReaders.open(qcow)) {
      assertThat(r.size()).isEqualTo(Files.size(raw));
      assertThat(ImageInspector.inspect(qcow).qcow2().version()).isEqualTo(3);
      byte[] want = Files.readAllBytes(raw);
      ImageChecks.assertSameBytes(ImageChecks.readAll(r, 1 << 20), want, qcow.toString());
    }
  }

  @Test
  void dataZeroRunsAndHolesAtOddOffsets() throws Exception {
    Tools.assumeQemu();
    long size = 40L * (1 << 20) + 3 * 512;
    long[][] data = {
      {0, 777}, {65_535, 2}, {1_000_001, 3_000_000}, {4_000_001, 65_536}, {20L << 20, 5 << 20},
      {size - 1000, 1000}
    };
    Path src = raw("odd.raw", size, data);
    for (int bits : new int[] {16, 9, 21}) {
      Path q = write(src, extents(size, data), bits);
      assertValidCopy(q, src);
    }
    // compact: only the clusters touched by data, plus a few metadata clusters
    Qcow2Writer w = Qcow2Writer.plan(size, extents(size, data));
    assertThat(w.dataClusters()).isEqualTo(1 + 1 + 47 + 1 + 80 + 1);
    assertThat(w.metadataSize()).isEqualTo(5 * 65536); // header, L1, refcount table/block, one L2
  }

  @Test
  void manyL2TablesAndRefcountBlocksWithSmallClusters() throws Exception {
    Tools.assumeQemu();
    // 512-byte clusters: an L2 table maps 32 KiB and a refcount block counts 256 clusters, so a
    // few MiB need many of both
    long size = 12L * (1 << 20) + 512;
    List<long[]> places = new ArrayList<>();
    Random rnd = new Random(3);
    for (long at = 1234; at < size - 300_000; ) {
      long step = 40_000 + rnd.nextInt(200_000);
      places.add(new long[] {at, 1 + rnd.nextInt(40_000)});
      at += step;
    }
    long[][] data = places.toArray(new long[0][]);
    Path src = raw("many.raw", size, data);
    Path q = write(src, extents(size, data), 9);
    assertValidCopy(q, src);
  }

  @Test
  void emptyAndFullImages() throws Exception {
    Tools.assumeQemu();
    long size = 3L * (1 << 20);
    Path empty = raw("empty.raw", size);
    Path q = write(empty, extents(size), 16);
    assertValidCopy(q, empty);
    assertThat(Files.size(q)).isEqualTo(3 * 65536 + 65536); // no L2 table, no data

    long[][] all = {{0, size}};
    Path full = raw("full.raw", size, all);
    assertValidCopy(write(full, extents(size, all), 16), full);
  }

  @Test
  void aLayoutIsDeterministicAndMatchesOnlyItsOwnFile() throws Exception {
    long size = 10L << 20;
    List<Extent> a = extents(size, new long[] {100, 5000}, new long[] {3 << 20, 70_000});
    List<Extent> b = extents(size, new long[] {100, 5000}, new long[] {4 << 20, 70_000});
    Path p = dir.resolve("a.qcow2");
    try (FileChannel ch =
        FileChannel.open(
            p, StandardOpenOption.CREATE_NEW, StandardOpenOption.READ, StandardOpenOption.WRITE)) {
      Qcow2Writer.plan(size, a).writeMetadata(ch);
      try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
        f.setLength(Qcow2Writer.plan(size, a).fileSize());
      }
      assertThat(Qcow2Writer.plan(size, a).matches(ch)).isTrue();
      assertThat(Qcow2Writer.plan(size, b).matches(ch)).isFalse();
      assertThat(Qcow2Writer.plan(size + 65536, a).matches(ch)).isFalse();
    }
  }

  @Test
  void hostOffsetsRefuseBytesOutsideDataClusters() {
    long size = 10L << 20;
    Qcow2Writer w = Qcow2Writer.plan(size, extents(size, new long[] {200_000, 100_000}));
    long first = w.metadataSize();
    // 200000 lies in guest cluster 3, the first data cluster
    assertThat(w.hostOffset(200_000, 100_000)).isEqualTo(first + 200_000 - 3 * 65536);
    assertThat(w.hostOffset(3 * 65536, 65536)).isEqualTo(first);
    assertThatThrownBy(() -> w.hostOffset(0, 10)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> w.hostOffset(200_000, 300_000))
        .isInstanceOf(IllegalArgumentException.class);
  }
}
