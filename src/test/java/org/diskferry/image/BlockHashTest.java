package org.diskferry.image;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BlockHashTest {
  @TempDir Path dir;

  /** imageio's blkhash, written independently in Python (hashlib). */
  private static final String PYTHON_BLKHASH =
      "import hashlib,sys\n"
          + "bs=int(sys.argv[2])\n"
          + "outer=hashlib.blake2b(digest_size=32)\n"
          + "with open(sys.argv[1],'rb') as f:\n"
          + "  while True:\n"
          + "    b=f.read(bs)\n"
          + "    if not b: break\n"
          + "    outer.update(hashlib.blake2b(b,digest_size=32).digest())\n"
          + "print(outer.hexdigest())\n";

  /** 4 MiB blocks: data, all zeros (a hole), data, zeros, and a short last block with data. */
  private Path image(long size) throws Exception {
    Path p = dir.resolve("img.raw");
    Random rnd = new Random(11);
    try (FileChannel ch =
        FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      for (long at : new long[] {100, 9_000_000, 3L * (4 << 20) + 5, size - 10_000}) {
        byte[] b = new byte[10_000];
        rnd.nextBytes(b);
        ch.write(ByteBuffer.wrap(b), at);
      }
      ch.truncate(size);
    }
    return p;
  }

  @Test
  void matchesAnIndependentImplementation() throws Exception {
    Tools.assumePython();
    Path p = image(5L * BlockHash.DEFAULT_BLOCK_SIZE + 12_345);
    String expected4m =
        Tools.run("python3", "-c", PYTHON_BLKHASH, p.toString(), "4194304").strip();
    String expected1m =
        Tools.run("python3", "-c", PYTHON_BLKHASH, p.toString(), "1048576").strip();
    try (ImageReader r = ImageReaders.open(p)) {
      assertThat(r.extents()).anyMatch(Extent::zero);
      assertThat(BlockHash.compute(r)).isEqualTo(expected4m);
      assertThat(BlockHash.compute(r, 1 << 20)).isEqualTo(expected1m);
    }
  }

  @Test
  void qcow2ImageHashesLikeItsRawContent() throws Exception {
    Tools.assumeQemu();
    // qemu rounds a qcow2's virtual size up to 512 bytes, so keep the raw size a multiple of it
    Path raw = image(5L * BlockHash.DEFAULT_BLOCK_SIZE + 12_288);
    Path q = dir.resolve("img.qcow2");
    Tools.qemuImg("convert", "-O", "qcow2", raw.toString(), q.toString());
    try (ImageReader r = ImageReaders.open(raw);
        ImageReader qr = ImageReaders.open(q)) {
      assertThat(BlockHash.compute(qr)).isEqualTo(BlockHash.compute(r));
      assertThat(BlockHash.compute(qr, 65536)).isEqualTo(BlockHash.compute(r, 65536));
    }
  }

  @Test
  void zeroBlocksUseTheCachedDigestWithTheSameResult() throws Exception {
    // an image whose extents say "all zero" hashes like the same bytes read as data
    Path p = Files.write(dir.resolve("z.raw"), new byte[9 << 20]);
    byte[] zeroBlock = Blake2b.hash256(new byte[4 << 20]);
    byte[] shortBlock = Blake2b.hash256(new byte[1 << 20]);
    Blake2b outer = new Blake2b(32);
    outer.update(zeroBlock);
    outer.update(zeroBlock);
    outer.update(shortBlock);
    String expected = java.util.HexFormat.of().formatHex(outer.digest());
    try (ImageReader r = ImageReaders.open(p)) {
      assertThat(r.extents()).containsExactly(new Extent(0, 9 << 20, true));
      assertThat(BlockHash.compute(r)).isEqualTo(expected);
    }
  }

  @Test
  void emptyImage() throws Exception {
    Path p = Files.createFile(dir.resolve("e.raw"));
    try (ImageReader r = ImageReaders.open(p)) {
      // H of an empty concatenation, as imageio computes it for a zero-length image
      assertThat(BlockHash.compute(r))
          .isEqualTo("0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
    }
  }
}
