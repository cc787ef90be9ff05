package org.diskferry.image;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/** Checks a reader against the raw conversion qemu-img makes of the same image. */
final class ImageChecks {
  private ImageChecks() {}

  /** Reads the whole image through {@code r} in chunks of {@code chunk} bytes. */
  static byte[] readAll(ImageReader r, int chunk) throws Exception {
    byte[] out = new byte[Math.toIntExact(r.size())];
    ByteBuffer buf = ByteBuffer.allocate(chunk);
    int pos = 0;
    while (pos < out.length) {
      buf.clear();
      int n = r.read(pos, buf);
      assertThat(n).as("read at %d", pos).isPositive();
      assertThat(buf.position()).isEqualTo(n);
      assertThat(n).isEqualTo(Math.min(chunk, out.length - pos)); // fills dst or reaches the end
      System.arraycopy(buf.array(), 0, out, pos, n);
      pos += n;
    }
    buf.clear();
    assertThat(r.read(out.length, buf)).isEqualTo(-1);
    return out;
  }

  static void assertSameBytes(byte[] actual, byte[] expected, String what) {
    assertThat(actual.length).as(what + ": length").isEqualTo(expected.length);
    int at = Arrays.mismatch(actual, expected);
    assertThat(at).as(what + ": first differing byte").isEqualTo(-1);
  }

  /** Extents cover the image, are merged, and zero extents read as zeros. */
  static void assertExtentsAgree(List<Extent> extents, byte[] data, String what) {
    long pos = 0;
    Boolean prevZero = null;
    for (Extent e : extents) {
      assertThat(e.start()).as(what + ": extents contiguous").isEqualTo(pos);
      assertThat(Boolean.valueOf(e.zero())).as(what + ": extents merged at " + pos)
          .isNotEqualTo(prevZero);
      if (e.zero()) {
        for (long i = e.start(); i < e.end(); i++) {
          if (data[(int) i] != 0) {
            throw new AssertionError(what + ": zero extent " + e + " has data at " + i);
          }
        }
      }
      prevZero = e.zero();
      pos = e.end();
    }
    assertThat(pos).as(what + ": extents cover the image").isEqualTo(data.length);
  }

  /** qemu-img map --output=json of the image, as extents with zero = !data, merged. */
  static List<Extent> qemuMap(Path image, String format) throws Exception {
    String json = Tools.run("qemu-img", "map", "-f", format, "--output=json", image.toString());
    ExtentList out = new ExtentList();
    for (JsonNode n : new ObjectMapper().readTree(json)) {
      out.add(n.get("start").asLong(), n.get("length").asLong(), !n.get("data").asBoolean());
    }
    return out.build();
  }

  /** Many threads reading random ranges at once get the right bytes. */
  static void assertConcurrentReads(ImageReader r, byte[] expected) throws Exception {
    if (expected.length == 0) {
      return;
    }
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<?>> fs = new ArrayList<>();
      for (int t = 0; t < 4; t++) {
        long seed = t;
        fs.add(pool.submit(() -> {
          Random rnd = new Random(seed);
          for (int i = 0; i < 200; i++) {
            int off = rnd.nextInt(expected.length);
            int len = 1 + rnd.nextInt(Math.min(300_000, expected.length));
            ByteBuffer b = rnd.nextBoolean() ? ByteBuffer.allocate(len) : ByteBuffer.allocateDirect(len);
            int n = r.read(off, b);
            int want = Math.min(len, expected.length - off);
            assertThat(n).isEqualTo(want);
            b.flip();
            byte[] got = new byte[n];
            b.get(got);
            assertSameBytes(got, Arrays.copyOfRange(expected, off, off + n), "read " + off + "+" + len);
          }
          return null;
        }));
      }
      for (Future<?> f : fs) {
        f.get();
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /** All checks for one image: bytes, extents (and qemu's map if {@code format} is given). */
  static void checkImage(Path image, String format, Path dir) throws Exception {
    Path raw = Tools.toRaw(image, dir);
    byte[] expected = Files.readAllBytes(raw);
    String what = image.getFileName().toString();
    try (ImageReader r = ImageReaders.open(image)) {
      assertThat(r.size()).as(what + ": size").isEqualTo(expected.length);
      assertSameBytes(readAll(r, 1_000_003), expected, what + " (1 MB chunks)");
      assertSameBytes(readAll(r, 8 << 20), expected, what + " (8 MiB chunks)");
      List<Extent> extents = r.extents();
      assertExtentsAgree(extents, expected, what);
      if (format.equals("qcow2")) {
        assertThat(extents).as(what + ": extents vs qemu-img map").isEqualTo(qemuMap(image, format));
      }
      assertConcurrentReads(r, expected);
    }
  }
}
