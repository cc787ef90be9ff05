package org.diskferry.transfer;

import java.util.ArrayList;
import java.util.List;
import org.diskferry.image.Extent;

/**
 * What an incremental backup of a disk holds, cluster by cluster, from the disk's dirty extents:
 * a cluster the guest changed is fetched whole as data (a qcow2 cluster that holds data hides the
 * backing file's whole cluster, so a change of part of it needs the rest too), except a cluster
 * that changed entirely to zeros, which becomes a zero cluster (it must not read through to the
 * backing file); clean clusters stay unallocated and read from the backing file.
 */
public final class IncrementalLayout {
  /** Whole clusters to fetch (the last one cut at the disk's end), in order. */
  public final List<Extent> data;
  /** Whole clusters that read as zeros, in order, none of them in {@link #data}. */
  public final List<Extent> zeroed;

  private final long size;

  private IncrementalLayout(long size, List<Extent> data, List<Extent> zeroed) {
    this.size = size;
    this.data = data;
    this.zeroed = zeroed;
  }

  /**
   * @param changes the disk's dirty extents, in order
   * @param size the disk's size
   * @param clusterSize the qcow2 cluster size of the backup's files
   */
  public static IncrementalLayout of(
      List<ChangedBlocks.Change> changes, long size, long clusterSize) {
    List<long[]> data = new ArrayList<>();
    List<long[]> zero = new ArrayList<>();
    for (ChangedBlocks.Change c : changes) {
      long end = Math.min(c.end(), size);
      if (!c.dirty() || c.length() <= 0 || c.start() >= end) {
        continue;
      }
      long first = c.start() / clusterSize;
      long last = (end - 1) / clusterSize;
      if (!c.zero()) {
        add(data, first, last);
        continue;
      }
      // Clusters the zero extent covers whole; the end of the disk ends its last cluster.
      long zf = (c.start() + clusterSize - 1) / clusterSize;
      long zl = (end == size ? (end + clusterSize - 1) / clusterSize : end / clusterSize) - 1;
      if (zf > zl) {
        add(data, first, last);
        continue;
      }
      if (zf > first) {
        add(data, first, first);
      }
      add(zero, zf, zl);
      if (zl < last) {
        add(data, last, last);
      }
    }
    return new IncrementalLayout(
        size, extents(data, size, clusterSize, false),
        extents(subtract(zero, data), size, clusterSize, true));
  }

  /**
   * The whole disk as extents: data clusters to fetch, and everything else (zero clusters and
   * clean clusters) as zero extents, which cost nothing to move.
   */
  public List<DataChannel.Extent> coverage() {
    List<DataChannel.Extent> out = new ArrayList<>();
    long at = 0;
    for (Extent e : data) {
      if (e.start() > at) {
        out.add(new DataChannel.Extent(at, e.start() - at, true));
      }
      out.add(new DataChannel.Extent(e.start(), e.length(), false));
      at = e.end();
    }
    if (at < size) {
      out.add(new DataChannel.Extent(at, size - at, true));
    }
    return out;
  }

  /** Bytes of data to fetch. */
  public long dataBytes() {
    return data.stream().mapToLong(Extent::length).sum();
  }

  /** Appends the cluster run [first, last], merging it with the previous one it touches. */
  private static void add(List<long[]> runs, long first, long last) {
    long[] prev = runs.isEmpty() ? null : runs.get(runs.size() - 1);
    if (prev != null && first <= prev[1] + 1) {
      prev[1] = Math.max(prev[1], last);
    } else {
      runs.add(new long[] {first, last});
    }
  }

  /** The clusters of {@code a} not in {@code b} (both sorted, not overlapping). */
  private static List<long[]> subtract(List<long[]> a, List<long[]> b) {
    List<long[]> out = new ArrayList<>();
    int j = 0;
    for (long[] r : a) {
      long from = r[0];
      while (j < b.size() && b.get(j)[1] < from) {
        j++;
      }
      int k = j;
      while (from <= r[1]) {
        if (k >= b.size() || b.get(k)[0] > r[1]) {
          out.add(new long[] {from, r[1]});
          break;
        }
        long[] cut = b.get(k);
        if (cut[0] > from) {
          out.add(new long[] {from, cut[0] - 1});
        }
        from = Math.max(from, cut[1] + 1);
        k++;
      }
    }
    return out;
  }

  private static List<Extent> extents(
      List<long[]> runs, long size, long clusterSize, boolean zero) {
    List<Extent> out = new ArrayList<>();
    for (long[] r : runs) {
      long start = r[0] * clusterSize;
      long end = Math.min((r[1] + 1) * clusterSize, size);
      if (end > start) {
        out.add(new Extent(start, end - start, zero));
      }
    }
    return out;
  }
}
