package org.diskferry.transfer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class UncachedFileTest {

  @TempDir Path dir;

  private static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  private static boolean directWorks(Path dir) {
    Path probe = dir.resolve("probe");
    try (FileChannel ch = FileChannel.open(probe, StandardOpenOption.CREATE,
        StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT)) {
      return true;
    } catch (IOException | UnsupportedOperationException e) {
      return false;
    }
  }

  /** Whole blocks, a block and a half at an odd offset, and a short tail all land as written. */
  @Test
  void alignedAndUnalignedWritesKeepTheBytes() throws IOException {
    Path f = dir.resolve("image.part");
    byte[] a = random(5 << 20, 1); // more than the 4 MiB staging buffer
    byte[] b = random(6144, 2);
    byte[] c = random(100, 3);
    try (UncachedFile out = UncachedFile.open(f)) {
      out.write(a, 0, a.length, 0);
      out.write(b, 0, b.length, a.length + 1000L);
      out.write(c, 0, c.length, a.length + 20_000L);
      out.force(true);
      assertThat(out.channel().size()).isEqualTo(a.length + 20_100L);
    }
    byte[] got = Files.readAllBytes(f);
    byte[] want = new byte[a.length + 20_100];
    System.arraycopy(a, 0, want, 0, a.length);
    System.arraycopy(b, 0, want, a.length + 1000, b.length);
    System.arraycopy(c, 0, want, a.length + 20_000, c.length);
    assertThat(got).isEqualTo(want);
  }

  /** A buffer slice from an offset: the source bytes are copied, so any offset works. */
  @Test
  void writesFromTheMiddleOfAnArray() throws IOException {
    Path f = dir.resolve("slice.part");
    byte[] a = random(3 * UncachedFile.BLOCK + 17, 4);
    try (UncachedFile out = UncachedFile.open(f)) {
      out.write(a, 17, 3 * UncachedFile.BLOCK, UncachedFile.BLOCK);
    }
    byte[] got = Files.readAllBytes(f);
    assertThat(got).hasSize(4 * UncachedFile.BLOCK);
    for (int i = 0; i < UncachedFile.BLOCK; i++) {
      assertThat(got[i]).isZero();
    }
    byte[] tail = new byte[3 * UncachedFile.BLOCK];
    System.arraycopy(got, UncachedFile.BLOCK, tail, 0, tail.length);
    byte[] want = new byte[3 * UncachedFile.BLOCK];
    System.arraycopy(a, 17, want, 0, want.length);
    assertThat(tail).isEqualTo(want);
  }

  @Test
  void usesDirectWritesWhereTheFileSystemHasThem() throws IOException {
    assumeTrue(directWorks(dir) && UncachedFile.directSuits(Files.getFileStore(dir).type()),
        "the temporary directory's file system has no O_DIRECT, or is a network one");
    try (UncachedFile out = UncachedFile.open(dir.resolve("d.part"))) {
      assertThat(out.direct()).isTrue();
      byte[] a = random(8 * UncachedFile.BLOCK, 5);
      out.write(a, 0, a.length, 0);
      assertThat(out.direct()).isTrue();
    }
  }

  /** Buffers of every kind: aligned direct (no copy), unaligned direct, heap; each advances. */
  @Test
  void writesByteBuffersOfEveryKind() throws IOException {
    Path f = dir.resolve("buffers.part");
    int block = UncachedFile.BLOCK;
    byte[] a = random(3 * block + 100, 8);
    byte[] b = random(2 * block, 9);
    byte[] c = random(block + 1, 10);
    ByteBuffer aligned = UncachedFile.allocate(a.length);
    aligned.put(a).flip();
    assertThat(aligned.alignmentOffset(0, block)).isZero();
    ByteBuffer unaligned = ByteBuffer.allocateDirect(b.length + 8).position(3).slice();
    unaligned.put(b).flip();
    ByteBuffer heap = ByteBuffer.wrap(c);
    long at = 8L * block;
    try (UncachedFile out = UncachedFile.open(f)) {
      out.write(aligned, 0);
      out.write(unaligned, at);
      out.write(heap, 2 * at + 5);
      assertThat(aligned.hasRemaining()).isFalse();
      assertThat(unaligned.hasRemaining()).isFalse();
      assertThat(heap.hasRemaining()).isFalse();
    }
    byte[] want = new byte[(int) (2 * at + 5 + c.length)];
    System.arraycopy(a, 0, want, 0, a.length);
    System.arraycopy(b, 0, want, (int) at, b.length);
    System.arraycopy(c, 0, want, (int) (2 * at + 5), c.length);
    assertThat(Files.readAllBytes(f)).isEqualTo(want);
  }

  /** Local disk file systems get direct writes; network and FUSE ones keep the page cache. */
  @Test
  void directWritesOnlyWhereTheySuit() {
    for (String local : new String[] {"ext4", "xfs", "btrfs", "tmpfs", "zfs", "f2fs", ""}) {
      assertThat(UncachedFile.directSuits(local)).as(local).isTrue();
    }
    for (String remote : new String[] {"nfs", "nfs4", "cifs", "smb3", "fuse.sshfs", "fuseblk",
        "9p", "ceph", "glusterfs", "lustre", "virtiofs"}) {
      assertThat(UncachedFile.directSuits(remote)).as(remote).isFalse();
    }
  }

  /** A direct write that fails switches direct writing off; the bytes still land. */
  @Test
  void aRefusedDirectWriteFallsBack() throws IOException {
    Path f = dir.resolve("refused.part");
    FileChannel buffered = FileChannel.open(f, StandardOpenOption.CREATE,
        StandardOpenOption.READ, StandardOpenOption.WRITE);
    FileChannel refusing = FileChannel.open(f, StandardOpenOption.WRITE);
    refusing.close(); // every write on it fails with an IOException
    byte[] a = random(4 * UncachedFile.BLOCK + 9, 7);
    try (UncachedFile out = new UncachedFile(buffered, refusing)) {
      assertThat(out.direct()).isTrue();
      out.write(a, 0, a.length, 0);
      assertThat(out.direct()).isFalse();
      out.write(a, 0, UncachedFile.BLOCK, a.length + 3L);
    }
    byte[] want = new byte[a.length + 3 + UncachedFile.BLOCK];
    System.arraycopy(a, 0, want, 0, a.length);
    System.arraycopy(a, 0, want, a.length + 3, UncachedFile.BLOCK);
    assertThat(Files.readAllBytes(f)).isEqualTo(want);
  }

  /** Older kernels' tmpfs has no O_DIRECT: ordinary writes, same result. */
  @Test
  void fallsBackWithoutDirectIo() throws IOException {
    Path shm = Path.of("/dev/shm");
    assumeTrue(Files.isDirectory(shm) && Files.isWritable(shm) && !directWorks(shm),
        "no file system without O_DIRECT here (tmpfs has it since Linux 6.6)");
    Path f = Files.createTempFile(shm, "diskferry-test", ".part");
    try {
      byte[] a = random(2 * UncachedFile.BLOCK + 5, 6);
      try (UncachedFile out = UncachedFile.open(f)) {
        assertThat(out.direct()).isFalse();
        out.write(a, 0, a.length, 0);
      }
      assertThat(Files.readAllBytes(f)).isEqualTo(a);
    } finally {
      Files.deleteIfExists(f);
    }
  }
}
