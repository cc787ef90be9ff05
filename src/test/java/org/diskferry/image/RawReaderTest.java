package org.diskferry.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RawReaderTest {
  @TempDir Path dir;

  /** A sparse file with data at odd offsets and a size that is not a multiple of anything. */
  private Path sparse(String name, long size, long... dataAt) throws Exception {
    Path p = dir.resolve(name);
    Random rnd = new Random(7);
    try (FileChannel ch =
        FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      for (long at : dataAt) {
        byte[] b = new byte[5000];
        rnd.nextBytes(b);
        ch.write(ByteBuffer.wrap(b, 0, (int) Math.min(b.length, size - at)), at);
      }
      ch.truncate(size);
      if (ch.size() < size) {
        ch.write(ByteBuffer.allocate(1), size - 1);
      }
    }
    return p;
  }

  /** What the extents must be: one per 1 MiB scan block, merged, zero iff all zeros. */
  private static List<Extent> expected(byte[] data) {
    ExtentList out = new ExtentList();
    for (int off = 0; off < data.length; off += RawReader.SCAN_BLOCK) {
      int end = Math.min(data.length, off + RawReader.SCAN_BLOCK);
      boolean zero = true;
      for (int i = off; i < end && zero; i++) {
        zero = data[i] == 0;
      }
      out.add(off, end - off, zero);
    }
    return out.build();
  }

  @Test
  void sparseRawWithHolesAtOddOffsets() throws Exception {
    long size = 13 * (1 << 20) + 4097;
    Path p = sparse("sparse.raw", size, 0, 1_500_001, 1_503_000, 6_291_455, 9_999_999, size - 3);
    byte[] data = Files.readAllBytes(p);
    try (ImageReader r = ImageReaders.open(p)) {
      assertThat(r.size()).isEqualTo(size);
      ImageChecks.assertSameBytes(ImageChecks.readAll(r, 777_777), data, "raw");
      List<Extent> ex = r.extents();
      ImageChecks.assertExtentsAgree(ex, data, "raw");
      if (SparseFiles.available()) {
        // holes come from the file system at its block size: at least the scan's zero ranges
        for (Extent e : expected(data)) {
          if (e.zero()) {
            assertThat(ex).anySatisfy(z -> {
              assertThat(z.zero()).isTrue();
              assertThat(z.start()).isLessThanOrEqualTo(e.start());
              assertThat(z.end()).isGreaterThanOrEqualTo(e.end());
            });
          }
        }
      } else {
        assertThat(ex).isEqualTo(expected(data));
      }
      assertThat(ex.stream().filter(Extent::zero).count()).isGreaterThanOrEqualTo(3);
      ImageChecks.assertConcurrentReads(r, data);
    }
  }

  @Test
  void fileSystemHoles() throws Exception {
    assumeTrue(SparseFiles.available(), "needs Java 22+ on Linux with native access enabled");
    long size = 10L << 20;
    Path p = sparse("holes.raw", size, 5L << 20);
    List<long[]> ranges = SparseFiles.dataRanges(p, size);
    assertThat(ranges).isNotNull().isNotEmpty();
    long dataBytes = 0;
    for (long[] r : ranges) {
      dataBytes += r[1] - r[0];
    }
    assertThat(dataBytes).isLessThan(1L << 20);
    assertThat(ranges).anySatisfy(r -> {
      assertThat(r[0]).isLessThanOrEqualTo(5L << 20);
      assertThat(r[1]).isGreaterThanOrEqualTo((5L << 20) + 5000);
    });
    try (ImageReader r = ImageReaders.open(p)) {
      List<Extent> ex = r.extents();
      assertThat(ex).hasSize(3);
      assertThat(ex.get(1).zero()).isFalse();
      assertThat(ex.get(1).length()).isLessThanOrEqualTo(1L << 20);
    }
    // a file that is one big hole
    Path hole = dir.resolve("hole.raw");
    try (java.io.RandomAccessFile f = new java.io.RandomAccessFile(hole.toFile(), "rw")) {
      f.setLength(size);
    }
    assertThat(SparseFiles.dataRanges(hole, size)).isEmpty();
  }

  @Test
  void allocatedZerosAndAllData() throws Exception {
    Path zeros = dir.resolve("zeros.raw");
    Files.write(zeros, new byte[3 * (1 << 20) + 5]); // written zeros, not holes
    try (ImageReader r = ImageReaders.open(zeros)) {
      assertThat(r.extents()).containsExactly(new Extent(0, 3 * (1 << 20) + 5, true));
    }
    byte[] full = new byte[2 * (1 << 20) + 100];
    Arrays.fill(full, (byte) 1);
    Path data = Files.write(dir.resolve("full.raw"), full);
    try (ImageReader r = ImageReaders.open(data)) {
      assertThat(r.extents()).containsExactly(new Extent(0, full.length, false));
    }
    Path empty = Files.createFile(dir.resolve("empty.raw"));
    try (ImageReader r = ImageReaders.open(empty)) {
      assertThat(r.extents()).isEmpty();
      assertThat(r.read(0, ByteBuffer.allocate(1))).isEqualTo(-1);
      assertThat(r.read(0, ByteBuffer.allocate(0))).isEqualTo(0);
    }
  }

  @Test
  void readStopsAtTheEndAndRespectsTheBufferWindow() throws Exception {
    byte[] d = new byte[10_000];
    new Random(3).nextBytes(d);
    Path p = Files.write(dir.resolve("small.raw"), d);
    try (ImageReader r = ImageReaders.open(p)) {
      ByteBuffer b = ByteBuffer.allocate(100);
      b.position(10).limit(60);
      assertThat(r.read(9_980, b)).isEqualTo(20);
      assertThat(b.position()).isEqualTo(30);
      assertThat(b.limit()).isEqualTo(60);
      assertThat(Arrays.copyOfRange(b.array(), 10, 30)).isEqualTo(Arrays.copyOfRange(d, 9_980, 10_000));
    }
  }

  @Test
  void isoIsReadRaw() throws Exception {
    byte[] d = new byte[0x9000];
    System.arraycopy("CD001".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, d, 0x8001, 5);
    Path p = Files.write(dir.resolve("x.iso"), d);
    ImageInfo info = ImageInspector.inspect(p);
    try (ImageReader r = ImageReaders.open(info)) {
      assertThat(r).isInstanceOf(RawReader.class);
      assertThat(ImageChecks.readAll(r, 4096)).isEqualTo(d);
    }
  }

  @Test
  void sparseRawAgreesWithQemu() throws Exception {
    Tools.assumeQemu();
    Path p = dir.resolve("q.raw");
    Tools.qemuImg("create", "-f", "raw", p.toString(), "9M");
    Tools.qemuIo(p, "raw", "write -P 0xab 512 1k", "write -P 0xcd 4M 3M", "write -P 0x01 9215k 1k");
    List<Extent> ex;
    try (ImageReader r = ImageReaders.open(p)) {
      ex = r.extents();
    }
    // every range qemu sees as data lies inside one of our data extents
    List<Extent> data = new ArrayList<>(ex.stream().filter(e -> !e.zero()).toList());
    for (Extent q : ImageChecks.qemuMap(p, "raw")) {
      if (!q.zero()) {
        assertThat(data).anySatisfy(e -> {
          assertThat(e.start()).isLessThanOrEqualTo(q.start());
          assertThat(e.end()).isGreaterThanOrEqualTo(q.end());
        });
      }
    }
    ImageChecks.checkImage(p, "raw", dir);
  }
}
