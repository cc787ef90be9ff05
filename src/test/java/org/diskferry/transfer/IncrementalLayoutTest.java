package org.diskferry.transfer;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.diskferry.image.Extent;
import org.junit.jupiter.api.Test;

/** Dirty extents of an incremental backup turned into whole data clusters and zero clusters. */
class IncrementalLayoutTest {
  private static final long C = 65536;

  private static ChangedBlocks.Change clean(long start, long length) {
    return new ChangedBlocks.Change(start, length, false, false);
  }

  private static ChangedBlocks.Change data(long start, long length) {
    return new ChangedBlocks.Change(start, length, true, false);
  }

  private static ChangedBlocks.Change zero(long start, long length) {
    return new ChangedBlocks.Change(start, length, true, true);
  }

  @Test
  void unalignedDirtyDataIsWidenedToWholeClusters() {
    long size = 10 * C;
    IncrementalLayout l =
        IncrementalLayout.of(
            List.of(clean(0, C + 100), data(C + 100, 5), clean(C + 105, 3 * C - 105 + C),
                data(4 * C + C / 2, C), clean(5 * C + C / 2, size - 5 * C - C / 2)),
            size, C);
    assertThat(l.data)
        .containsExactly(new Extent(C, C, false), new Extent(4 * C, 2 * C, false));
    assertThat(l.zeroed).isEmpty();
    assertThat(l.dataBytes()).isEqualTo(3 * C);
    assertThat(l.coverage())
        .containsExactly(
            new DataChannel.Extent(0, C, true), new DataChannel.Extent(C, C, false),
            new DataChannel.Extent(2 * C, 2 * C, true), new DataChannel.Extent(4 * C, 2 * C, false),
            new DataChannel.Extent(6 * C, 4 * C, true));
  }

  @Test
  void dirtyZerosBecomeZeroClustersOnlyWhereTheyCoverWholeClusters() {
    long size = 10 * C;
    IncrementalLayout l =
        IncrementalLayout.of(
            List.of(clean(0, C / 2), zero(C / 2, 3 * C), clean(3 * C + C / 2, C / 2),
                zero(4 * C, 100), clean(4 * C + 100, C - 100), zero(5 * C, C),
                data(6 * C, 10), clean(6 * C + 10, 4 * C - 10)),
            size, C);
    // cluster 0 is partly zeroed and partly clean: fetched whole, as is cluster 3 and 4
    assertThat(l.zeroed).containsExactly(new Extent(C, 2 * C, true), new Extent(5 * C, C, true));
    assertThat(l.data)
        .containsExactly(new Extent(0, C, false), new Extent(3 * C, 2 * C, false),
            new Extent(6 * C, C, false));
  }

  @Test
  void theShortLastClusterAndDataWinOverZeros() {
    long size = 3 * C + 512;
    IncrementalLayout l =
        IncrementalLayout.of(
            List.of(zero(0, C + 512), data(C + 512, 10), clean(C + 522, 2 * C - 522),
                zero(3 * C, 512)),
            size, C);
    assertThat(l.zeroed)
        .containsExactly(new Extent(0, C, true), new Extent(3 * C, 512, true));
    assertThat(l.data).containsExactly(new Extent(C, C, false));
  }

  @Test
  void nothingDirtyMovesNothing() {
    IncrementalLayout l = IncrementalLayout.of(List.of(clean(0, 4 * C)), 4 * C, C);
    assertThat(l.data).isEmpty();
    assertThat(l.zeroed).isEmpty();
    assertThat(l.coverage()).containsExactly(new DataChannel.Extent(0, 4 * C, true));
  }
}
