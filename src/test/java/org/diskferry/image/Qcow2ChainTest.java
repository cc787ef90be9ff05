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
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.diskferry.error.DiskferryException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Backup chains: a full qcow2 and incremental qcow2 files over it, written by {@link Qcow2Writer}
 * with backing files, checked by qemu-img, and read back as one image by {@link
 * Qcow2Reader#openChain}.
 */
class Qcow2ChainTest {
  private static final int K64 = 64 * 1024;
  private static final int M = 1 << 20;
  private static final int SIZE = 4 * M;

  @TempDir Path dir;

  /** One change of the guest: data (random bytes) or zeros at [start, start + length). */
  private record Change(long start, int length, boolean zero) {}

  private static Change data(long start, int length) {
    return new Change(start, length, false);
  }

  private static Change zero(long start, int length) {
    return new Change(start, length, true);
  }

  /** Applies the changes to the disk image {@code disk}, returns them as writer extents. */
  private static List<Extent> apply(byte[] disk, Random rnd, Change... changes) {
    List<Extent> out = new ArrayList<>();
    for (Change c : changes) {
      byte[] b = new byte[c.length()];
      if (!c.zero()) {
        rnd.nextBytes(b);
      }
      System.arraycopy(b, 0, disk, (int) c.start(), c.length());
      out.add(new Extent(c.start(), c.length(), c.zero()));
    }
    return out;
  }

  /** Writes a qcow2 holding the extents' data from {@code disk}, over {@code backing} if given. */
  private static Path write(Path file, byte[] disk, List<Extent> extents, String backing)
      throws Exception {
    Files.createDirectories(file.getParent());
    Qcow2Writer w = backing == null
        ? Qcow2Writer.plan(disk.length, extents)
        : Qcow2Writer.plan(disk.length, extents, Qcow2Writer.DEFAULT_CLUSTER_BITS, backing);
    try (FileChannel ch = FileChannel.open(file, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      w.writeMetadata(ch);
      try (RandomAccessFile f = new RandomAccessFile(file.toFile(), "rw")) {
        f.setLength(w.fileSize());
      }
      for (Extent e : extents) {
        if (!e.zero()) {
          ByteBuffer b = ByteBuffer.wrap(disk, (int) e.start(), (int) e.length());
          long pos = w.hostOffset(e.start(), e.length());
          while (b.hasRemaining()) {
            pos += ch.write(b, pos);
          }
        }
      }
    }
    return file;
  }

  private Path rawCopy(String name, byte[] disk) throws Exception {
    Path p = dir.resolve(name);
    Files.write(p, disk);
    return p;
  }

  private static byte[] readAll(ImageReader r) throws Exception {
    byte[] out = new byte[(int) r.size()];
    ByteBuffer b = ByteBuffer.wrap(out);
    long pos = 0;
    while (b.hasRemaining()) {
      int n = r.read(pos, b);
      assertThat(n).isPositive();
      pos += n;
    }
    return out;
  }

  @Test
  void fullAndTwoIncrementalsMakeAChainQemuReads() throws Exception {
    Tools.assumeQemu();
    Random rnd = new Random(12);
    byte[] disk = new byte[SIZE];
    List<Extent> full = apply(disk, rnd, data(0, K64), data(M, 3 * K64), data(3L * M, K64));
    // a full backup lists zero extents between data, as imageio's zero extents do
    ExtentList fullMap = new ExtentList();
    long pos = 0;
    for (Extent e : full) {
      fullMap.add(pos, e.start() - pos, true);
      fullMap.add(e.start(), e.length(), false);
      pos = e.end();
    }
    fullMap.add(pos, SIZE - pos, true);
    Path b1 = write(dir.resolve("repo/b1/disk.qcow2"), disk, fullMap.build(), null);
    byte[] t0 = disk.clone();

    // incremental 1: a new block, a rewritten block, a block zeroed (hides the backing's data)
    List<Extent> inc1 = apply(disk, rnd, data(K64, K64), data(M, K64), zero(3L * M, K64));
    Path b2 = write(dir.resolve("repo/b2/disk.qcow2"), disk, inc1, "../b1/disk.qcow2");
    byte[] t1 = disk.clone();

    // incremental 2: a dirty block split into data and zeros, and the first block zeroed
    List<Extent> inc2 = apply(disk, rnd, zero(0, K64), data(2L * M, 4096), zero(2L * M + 4096, K64 - 4096));
    Path b3 = write(dir.resolve("repo/b3/disk.qcow2"), disk, inc2, "../b2/disk.qcow2");
    byte[] t2 = disk.clone();

    for (Path p : List.of(b1, b2, b3)) {
      Tools.qemuImg("check", p.toString());
    }
    String info = Tools.run("qemu-img", "info", "--backing-chain", b3.toString());
    assertThat(info).contains("backing file: ../b2/disk.qcow2").contains("backing file: ../b1/disk.qcow2")
        .contains("backing file format: qcow2");
    Tools.qemuImg("compare", "-f", "qcow2", "-F", "raw", b1.toString(), rawCopy("t0.raw", t0).toString());
    Tools.qemuImg("compare", "-f", "qcow2", "-F", "raw", b2.toString(), rawCopy("t1.raw", t1).toString());
    Tools.qemuImg("compare", "-f", "qcow2", "-F", "raw", b3.toString(), rawCopy("t2.raw", t2).toString());
    // the incrementals hold only their own clusters
    assertThat(Files.size(b3)).isLessThan(Files.size(b1));

    // the reader follows the chain: each point in time reads as the disk was then
    for (Object[] point : new Object[][] {{b1, t0}, {b2, t1}, {b3, t2}}) {
      try (Qcow2Reader r = Qcow2Reader.openChain((Path) point[0])) {
        byte[] want = (byte[]) point[1];
        assertThat(r.size()).isEqualTo(SIZE);
        assertThat(readAll(r)).isEqualTo(want);
        long covered = 0;
        for (Extent e : r.extents()) {
          assertThat(e.start()).isEqualTo(covered);
          covered = e.end();
          if (e.zero()) {
            assertThat(Arrays.copyOfRange(want, (int) e.start(), (int) e.end()))
                .as("zero extent " + e).containsOnly(0);
          }
        }
        assertThat(covered).isEqualTo(SIZE);
        // reads that straddle clusters of different files
        ByteBuffer mid = ByteBuffer.allocate(3 * K64 + 5);
        assertThat(r.read(M - K64 + 7, mid)).isEqualTo(mid.capacity());
        assertThat(mid.array()).isEqualTo(Arrays.copyOfRange(want, M - K64 + 7, M - K64 + 7 + mid.capacity()));
      }
    }
    // the data of the full backup below two incrementals is still found through them
    try (Qcow2Reader r = Qcow2Reader.openChain(b3)) {
      List<Extent> ext = r.extents();
      assertThat(ext.stream().filter(e -> !e.zero() && e.start() <= M + 2 * K64 && e.end() > M + 2 * K64))
          .hasSize(1);
    }
    // opened on its own, an image with a backing file is still refused
    assertThatThrownBy(() -> Qcow2Reader.open(b3)).isInstanceOf(DiskferryException.class)
        .hasMessageContaining("has a backing file");
  }

  @Test
  void readsAChainMadeByQemu() throws Exception {
    Tools.assumeQemu();
    Path base = dir.resolve("base.qcow2");
    Path top = dir.resolve("top.qcow2");
    Tools.qemuImg("create", "-q", "-f", "qcow2", base.toString(), "2M");
    Tools.qemuIo(base, "qcow2", "write -P 0x11 0 128k", "write -P 0x22 1M 64k");
    Tools.qemuImg("create", "-q", "-f", "qcow2", "-b", "base.qcow2", "-F", "qcow2", top.toString(), "3M");
    Tools.qemuIo(top, "qcow2", "write -P 0x33 64k 4k", "write -z 1M 64k", "write -P 0x44 2560k 64k");
    Path flat = Tools.toRaw(top, dir);
    try (Qcow2Reader r = Qcow2Reader.openChain(top)) {
      assertThat(r.size()).isEqualTo(3 * M);
      assertThat(readAll(r)).isEqualTo(Files.readAllBytes(flat));
    }
  }

  @Test
  void missingBackingFileLoopsAndBadLayoutsAreRefused() throws Exception {
    byte[] disk = new byte[M];
    Path base = write(dir.resolve("a/base.qcow2"), disk, List.of(new Extent(0, M, true)), null);
    Path top = write(dir.resolve("a/top.qcow2"), disk, List.of(new Extent(0, K64, true)), "base.qcow2");
    try (Qcow2Reader r = Qcow2Reader.openChain(top)) {
      assertThat(r.header().backingFile()).isEqualTo("base.qcow2");
    }
    Files.delete(base);
    assertThatThrownBy(() -> Qcow2Reader.openChain(top)).isInstanceOf(DiskferryException.class)
        .hasMessage("the backing chain of " + top + " is broken: " + base + " is missing");

    Path self = write(dir.resolve("self.qcow2"), disk, List.of(), "self.qcow2");
    assertThatThrownBy(() -> Qcow2Reader.openChain(self)).isInstanceOf(DiskferryException.class)
        .hasMessageContaining("loops");

    // an image's own ranges over a backing file are whole clusters
    assertThatThrownBy(() -> Qcow2Writer.plan(M, List.of(new Extent(100, 200, false)), 16, "b.qcow2"))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("cluster boundaries");
    assertThatThrownBy(() -> Qcow2Writer.plan(M, List.of(), 16, ""))
        .isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void longChainsStopAtTheLimit() throws Exception {
    byte[] disk = new byte[K64];
    write(dir.resolve("c0.qcow2"), disk, List.of(), null);
    for (int i = 1; i <= Qcow2Reader.MAX_CHAIN; i++) {
      write(dir.resolve("c" + i + ".qcow2"), disk, List.of(), "c" + (i - 1) + ".qcow2");
    }
    try (Qcow2Reader r = Qcow2Reader.openChain(dir.resolve("c" + (Qcow2Reader.MAX_CHAIN - 1) + ".qcow2"))) {
      assertThat(readAll(r)).containsOnly(0);
    }
    assertThatThrownBy(() -> Qcow2Reader.openChain(dir.resolve("c" + Qcow2Reader.MAX_CHAIN + ".qcow2")))
        .isInstanceOf(DiskferryException.class).hasMessageContaining("longer than " + Qcow2Reader.MAX_CHAIN);
  }
}
