package org.diskferry.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Overlays written by {@link Qcow2Writer#planOverlay} (an incremental backup's file): data
 * clusters, zero clusters that hide the backing file, and clusters that read through to it,
 * checked by {@code qemu-img check}, {@code info --backing-chain} and {@code compare}.
 */
class Qcow2OverlayTest {
  @TempDir Path dir;

  private static final int C = 65536;

  @Test
  void dataZeroAndCleanClustersReadAsTheNewDisk() throws Exception {
    Tools.assumeQemu();
    long size = 5L * (1 << 20) + 3 * 512; // the last cluster is short
    Random rnd = new Random(7);
    byte[] disk = new byte[(int) size];
    rnd.nextBytes(disk);
    Path base = dir.resolve("base.raw");
    Files.write(base, disk);
    Path baseQcow = dir.resolve("full.qcow2");
    Tools.qemuImg("convert", "-f", "raw", "-O", "qcow2", base.toString(), baseQcow.toString());

    // The guest changes: new data in clusters 2-3 and in the short last cluster; clusters 10-12
    // and the one before the last become zeros.
    byte[] now = disk.clone();
    byte[] fresh = new byte[2 * C];
    rnd.nextBytes(fresh);
    System.arraycopy(fresh, 0, now, 2 * C, 2 * C);
    long lastCluster = (size - 1) / C;
    for (long i = lastCluster * C; i < size; i += 3) {
      now[(int) i] = (byte) (i * 31);
    }
    java.util.Arrays.fill(now, 10 * C, 13 * C, (byte) 0);
    java.util.Arrays.fill(now, (int) ((lastCluster - 1) * C), (int) (lastCluster * C), (byte) 0);
    Path want = dir.resolve("now.raw");
    Files.write(want, now);

    List<Extent> data =
        List.of(new Extent(2 * C, 2 * C, false),
            new Extent(lastCluster * C, size - lastCluster * C, false));
    List<Extent> zeroed =
        List.of(new Extent(10 * C, 3 * C, true), new Extent((lastCluster - 1) * C, C, true));
    Qcow2Writer w = Qcow2Writer.planOverlay(size, data, zeroed, "full.qcow2", "qcow2");
    assertThat(w.dataClusters()).isEqualTo(3);
    assertThat(w.zeroClusters()).isEqualTo(4);
    Path top = dir.resolve("incr.qcow2");
    try (FileChannel ch =
        FileChannel.open(top, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      w.writeMetadata(ch);
      try (RandomAccessFile f = new RandomAccessFile(top.toFile(), "rw")) {
        f.setLength(w.fileSize());
      }
      for (Extent e : data) {
        ch.write(ByteBuffer.wrap(now, (int) e.start(), (int) e.length()),
            w.hostOffset(e.start(), e.length()));
      }
    }
    try (FileChannel ch = FileChannel.open(top, StandardOpenOption.READ)) {
      assertThat(w.matches(ch)).isTrue();
    }

    Tools.run("qemu-img", "check", "-f", "qcow2", top.toString());
    String chain = Tools.run("qemu-img", "info", "--backing-chain", top.toString());
    assertThat(chain).contains("backing file: full.qcow2").contains("backing file format: qcow2");
    Tools.run("qemu-img", "compare", "-f", "raw", "-F", "qcow2", want.toString(), top.toString());
    // Only the changed clusters are in the file: header, L1, refcounts, one L2, three data.
    assertThat(Files.size(top)).isEqualTo(8L * C);
  }
}
