package org.diskferry.image;

import java.util.List;

/**
 * How many bytes a qcow2 volume needs to hold an image's data, like {@code qemu-img measure}'s
 * {@code required}: the data clusters plus the metadata of a volume whose L2 tables cover the
 * whole virtual size and refcounts for a fully allocated one (so that the volume can grow to its
 * full size without new refcount blocks being the thing that does not fit). oVirt sizes a sparse qcow2 disk on block storage from this ({@code
 * initial_size}), since an upload does not extend the volume as a running VM would.
 */
public final class Qcow2Measure {
  private Qcow2Measure() {}

  /** The volume's cluster size: oVirt's qcow2 volumes use qemu-img's default, 64 KiB. */
  public static final int CLUSTER_BITS = Qcow2Writer.DEFAULT_CLUSTER_BITS;

  /** Bytes needed for an image of {@code virtualSize} bytes with these extents. */
  public static long required(long virtualSize, List<Extent> extents) {
    long clusterSize = 1L << CLUSTER_BITS;
    long data = Qcow2Writer.plan(virtualSize, extents, CLUSTER_BITS).dataClusters();
    long guestClusters = (virtualSize + clusterSize - 1) / clusterSize;
    long l2Tables = (guestClusters + clusterSize / 8 - 1) / (clusterSize / 8);
    long l1Clusters = Math.max(1, (l2Tables * 8 + clusterSize - 1) / clusterSize);
    long fixed = 1 + l1Clusters + l2Tables + guestClusters;
    long refsPerBlock = clusterSize / 2; // 16-bit refcounts
    long blocks = 0;
    long table = 0;
    while (true) {
      long b = (fixed + blocks + table + refsPerBlock - 1) / refsPerBlock;
      long t = Math.max(1, (b * 8 + clusterSize - 1) / clusterSize);
      if (b <= blocks && t <= table) {
        break;
      }
      blocks = Math.max(blocks, b);
      table = Math.max(table, t);
    }
    return (fixed + blocks + table - guestClusters + data) * clusterSize;
  }
}
