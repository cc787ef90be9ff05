package org.diskferry.image;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.ObjectMapper;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link Qcow2Measure} against {@code qemu-img measure -O qcow2} of the same images. */
class Qcow2MeasureTest {
  @TempDir Path dir;

  private static long qemuRequired(Path image) throws Exception {
    String json =
        Tools.run("qemu-img", "measure", "--output=json", "-O", "qcow2", image.toString());
    return new ObjectMapper().readTree(json).get("required").asLong();
  }

  private static long mine(Path image) throws Exception {
    try (ImageReader r = ImageReaders.open(image)) {
      return Qcow2Measure.required(r.size(), r.extents());
    }
  }

  @Test
  void agreesWithQemuImgMeasure() throws Exception {
    Tools.assumeQemu();
    String[][] cases = {
      {"empty.qcow2", "1G"},
      {"some.qcow2", "3G", "write -P 1 7k 3m", "write -z 12m 2m", "write -P 2 2047m 5m"},
      {"odd.qcow2", "100000000", "write -P 3 0 512", "write -P 4 99999744 256"},
    };
    for (String[] c : cases) {
      Path p = dir.resolve(c[0]);
      Tools.qemuImg("create", "-f", "qcow2", p.toString(), c[1]);
      if (c.length > 2) {
        Tools.qemuIo(p, "qcow2", List.of(c).subList(2, c.length).toArray(new String[0]));
      }
      long q = qemuRequired(p);
            assertThat(mine(p)).as(c[0]).isEqualTo(q);
    }
  }

  @Test
  void countsOnlyDataClusters() {
    long size = 10L << 30;
    long empty = Qcow2Measure.required(size, List.of(new Extent(0, size, true)));
    long some =
        Qcow2Measure.required(
            size,
            List.of(
                new Extent(0, 100, false), new Extent(100, (1L << 30) - 100, true),
                new Extent(1L << 30, 1 << 20, false),
                new Extent((1L << 30) + (1 << 20), size - (1L << 30) - (1 << 20), true)));
    assertThat(some - empty).isEqualTo(65536 + (1 << 20)); // 1 + 16 clusters of data
    // 10 GiB: header, one L1 cluster, 20 L2 tables, a refcount table and the 6 refcount blocks
    // that 163,862 clusters (fully allocated) need
    assertThat(empty).isEqualTo((1 + 1 + 20 + 1 + 6) * 65536L);
  }
}
