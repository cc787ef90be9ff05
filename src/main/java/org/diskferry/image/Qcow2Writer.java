package org.diskferry.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Lays out a compact qcow2 v3 image for guest data whose extent map is known before any data
 * arrives, writes its metadata, and says where each guest byte goes in the file.
 *
 * <p>Every cluster that holds any data gets a host cluster; zero extents stay unallocated. Host
 * clusters are handed out in guest order, after all metadata, so a run of consecutive data
 * clusters is one contiguous stretch of the file: a data extent can be written with one
 * positional write, by any number of threads, in any order. The file is laid out as header, L1
 * table, refcount table, refcount blocks, L2 tables, data clusters; every cluster has refcount 1.
 * The same extents always give the same bytes, so a partly written file can be continued.
 *
 * <p>With a backing file (an incremental backup over the previous one), the extents list only
 * what the image itself defines: data extents get host clusters, zero extents become zero
 * clusters (reading as zeros, hiding the backing file), and guest ranges no extent covers stay
 * unallocated, so they read from the backing file. Each run of adjacent extents must then start
 * and end on cluster boundaries (or at the end of the image). The backing file's name is stored
 * as given (a path relative to the image's directory, as qemu resolves it) with the backing
 * format {@code qcow2} in a header extension.
 */
public final class Qcow2Writer {
  /** 64 KiB clusters, qemu-img's and oVirt's default. */
  public static final int DEFAULT_CLUSTER_BITS = 16;

  private static final int HEADER_LENGTH = 104;
  private static final int REFCOUNT_ORDER = 4; // 16-bit refcounts, as qemu-img makes them
  private static final long COPIED = 1L << 63; // refcount is exactly 1
  private static final long ZERO_CLUSTER = 1L; // v3: reads as zeros, no host cluster
  private static final int EXT_BACKING_FORMAT = 0xE2792ACA;
  private static final byte[] BACKING_FORMAT = "qcow2".getBytes(StandardCharsets.US_ASCII);
  /** Where the backing file name goes: after the header, its format extension and the end mark. */
  private static final int BACKING_NAME_OFFSET = HEADER_LENGTH + 16 + 8;
  /** qemu's limit on a backing file name. */
  private static final int MAX_BACKING_NAME = 1023;

  private final long virtualSize;
  private final int clusterBits;
  private final long clusterSize;
  /** Allocated guest cluster runs: [first guest cluster, cluster count, first host cluster]. */
  private final List<long[]> runs;
  private final long[] runStarts;
  private final long l1Entries;
  private final long l1Clusters;
  private final long refTableClusters;
  private final long refBlocks;
  /** Indexes of the L2 tables that exist (those covering data), ascending. */
  private final long[] l2Tables;
  private final long dataClusters;
  /** The backing file name as stored, or null. */
  private final byte[] backingFile;
  /** Zero cluster runs (images with a backing file only): [first guest cluster, count]. */
  private final List<long[]> zeroRuns;

  private Qcow2Writer(long virtualSize, int clusterBits, List<Extent> extents, String backing) {
    if (clusterBits < 9 || clusterBits > 21) {
      throw new IllegalArgumentException("cluster bits " + clusterBits + " out of 9..21");
    }
    if (backing != null) {
      this.backingFile = backing.getBytes(StandardCharsets.UTF_8);
      if (backingFile.length == 0 || backingFile.length > MAX_BACKING_NAME
          || BACKING_NAME_OFFSET + backingFile.length > (1L << clusterBits)) {
        throw new IllegalArgumentException("backing file name of " + backingFile.length
            + " bytes: expected 1 to " + MAX_BACKING_NAME);
      }
    } else {
      this.backingFile = null;
    }
    this.virtualSize = virtualSize;
    this.clusterBits = clusterBits;
    this.clusterSize = 1L << clusterBits;
    long l2PerTable = clusterSize / 8;
    long guestClusters = ceilDiv(virtualSize, clusterSize);
    this.l1Entries = ceilDiv(guestClusters, l2PerTable);
    this.l1Clusters = Math.max(1, ceilDiv(l1Entries * 8, clusterSize));

    // Guest clusters touched by data, merged into runs.
    List<long[]> guestRuns = new ArrayList<>();
    long count = 0;
    for (Extent e : extents) {
      if (e.zero() || e.start() >= virtualSize) {
        continue;
      }
      long first = e.start() >> clusterBits;
      long last = (Math.min(e.end(), virtualSize) - 1) >> clusterBits;
      long[] prev = guestRuns.isEmpty() ? null : guestRuns.get(guestRuns.size() - 1);
      if (prev != null && first < prev[0] + prev[1] - 1) {
        throw new IllegalArgumentException("extents out of order at " + e.start());
      }
      if (prev != null && first == prev[0] + prev[1] - 1) {
        first++; // shares its first cluster with the previous run
      }
      if (first > last) {
        continue;
      }
      if (prev != null && first == prev[0] + prev[1]) {
        prev[1] += last - first + 1;
      } else {
        guestRuns.add(new long[] {first, last - first + 1, 0});
      }
      count += last - first + 1;
    }
    this.dataClusters = count;
    this.zeroRuns = backing == null ? List.of() : zeroRuns(extents, guestRuns);

    List<Long> tables = new ArrayList<>();
    List<long[]> mapped = new ArrayList<>(guestRuns);
    mapped.addAll(zeroRuns);
    mapped.sort((x, y) -> Long.compare(x[0], y[0]));
    for (long[] r : mapped) {
      for (long t = r[0] / l2PerTable; t <= (r[0] + r[1] - 1) / l2PerTable; t++) {
        if (tables.isEmpty() || tables.get(tables.size() - 1) < t) {
          tables.add(t);
        }
      }
    }
    this.l2Tables = tables.stream().mapToLong(Long::longValue).toArray();

    // The refcount structures cover every cluster of the file, themselves included.
    long refsPerBlock = clusterSize * 8 / (1 << REFCOUNT_ORDER);
    long fixed = 1 + l1Clusters + l2Tables.length + dataClusters;
    long blocks = 0;
    long table = 0;
    while (true) {
      long total = fixed + blocks + table;
      long b = ceilDiv(total, refsPerBlock);
      long t = Math.max(1, ceilDiv(b * 8, clusterSize));
      if (b == blocks && t == table) {
        break;
      }
      blocks = Math.max(blocks, b);
      table = Math.max(table, t);
    }
    this.refBlocks = blocks;
    this.refTableClusters = table;

    long host = firstDataCluster();
    this.runs = guestRuns;
    this.runStarts = new long[runs.size()];
    for (int i = 0; i < runs.size(); i++) {
      long[] r = runs.get(i);
      r[2] = host;
      host += r[1];
      runStarts[i] = r[0];
    }
  }

  /**
   * The clusters that the runs of adjacent extents cover, less the data clusters: they read as
   * zeros over the backing file. Each run must start and end on a cluster boundary.
   */
  private List<long[]> zeroRuns(List<Extent> extents, List<long[]> dataRuns) {
    List<long[]> covered = new ArrayList<>(); // [first cluster, end cluster)
    long regionStart = -1;
    long regionEnd = -1;
    for (Extent e : extents) {
      if (e.start() >= virtualSize) {
        continue;
      }
      long end = Math.min(e.end(), virtualSize);
      if (e.start() != regionEnd) {
        addRegion(covered, regionStart, regionEnd);
        regionStart = e.start();
      }
      regionEnd = end;
    }
    addRegion(covered, regionStart, regionEnd);
    List<long[]> out = new ArrayList<>();
    int d = 0;
    for (long[] c : covered) {
      long g = c[0];
      while (g < c[1]) {
        while (d < dataRuns.size() && dataRuns.get(d)[0] + dataRuns.get(d)[1] <= g) {
          d++;
        }
        long next = d < dataRuns.size() ? dataRuns.get(d)[0] : Long.MAX_VALUE;
        if (next <= g) {
          g = dataRuns.get(d)[0] + dataRuns.get(d)[1];
          continue;
        }
        long stop = Math.min(c[1], next);
        out.add(new long[] {g, stop - g});
        g = stop;
      }
    }
    return out;
  }

  private void addRegion(List<long[]> covered, long start, long end) {
    if (start < 0 || end <= start) {
      return;
    }
    if ((start & (clusterSize - 1)) != 0 || (end & (clusterSize - 1)) != 0 && end != virtualSize) {
      throw new IllegalArgumentException("extents " + start + ".." + end + " of an image with a"
          + " backing file must start and end on " + clusterSize + "-byte cluster boundaries");
    }
    covered.add(new long[] {start >> clusterBits, ceilDiv(end, clusterSize)});
  }

  /**
   * A layout for an image of {@code virtualSize} bytes whose data lies in the non-zero extents of
   * {@code extents} (in order, not overlapping).
   */
  public static Qcow2Writer plan(long virtualSize, List<Extent> extents, int clusterBits) {
    return new Qcow2Writer(virtualSize, clusterBits, extents, null);
  }

  /**
   * A layout for an image over the qcow2 image {@code backingFile} (stored as given: a path
   * relative to this image's directory, or absolute): the extents hold what this image defines,
   * data or zeros; the rest reads from the backing file. See the class comment.
   */
  public static Qcow2Writer plan(
      long virtualSize, List<Extent> extents, int clusterBits, String backingFile) {
    return new Qcow2Writer(virtualSize, clusterBits, extents,
        java.util.Objects.requireNonNull(backingFile, "backingFile"));
  }

  /** The backing file name this image refers to, or null. */
  public String backingFile() {
    return backingFile == null ? null : new String(backingFile, StandardCharsets.UTF_8);
  }

  public static Qcow2Writer plan(long virtualSize, List<Extent> extents) {
    return plan(virtualSize, extents, DEFAULT_CLUSTER_BITS);
  }

  public long virtualSize() {
    return virtualSize;
  }

  public long clusterSize() {
    return clusterSize;
  }

  /** Clusters holding guest data. */
  public long dataClusters() {
    return dataClusters;
  }

  /** Bytes of metadata before the first data cluster. */
  public long metadataSize() {
    return firstDataCluster() * clusterSize;
  }

  /** The size of the finished file. */
  public long fileSize() {
    return (firstDataCluster() + dataClusters) * clusterSize;
  }

  /**
   * Where the {@code length} guest bytes at {@code guestOffset} go in the file; they must lie in
   * data clusters of this layout.
   */
  public long hostOffset(long guestOffset, long length) {
    long cluster = guestOffset >> clusterBits;
    int i = Arrays.binarySearch(runStarts, cluster);
    if (i < 0) {
      i = -i - 2;
    }
    long lastCluster = (guestOffset + Math.max(1, length) - 1) >> clusterBits;
    if (i < 0 || lastCluster >= runs.get(i)[0] + runs.get(i)[1]) {
      throw new IllegalArgumentException(
          "guest bytes " + guestOffset + "+" + length + " are not in data clusters");
    }
    long[] r = runs.get(i);
    return ((r[2] + cluster - r[0]) << clusterBits) + (guestOffset & (clusterSize - 1));
  }

  /**
   * Writes every metadata cluster at the start of {@code ch}; the caller sizes the file to {@link
   * #fileSize} (sparse) and writes the data.
   */
  public void writeMetadata(FileChannel ch) throws IOException {
    emitMetadata(
        (buf, pos) -> {
          ByteBuffer b = buf.duplicate();
          long p = pos;
          while (b.hasRemaining()) {
            p += ch.write(b, p);
          }
        });
  }

  /** True when {@code ch} has this layout's size and starts with exactly its metadata. */
  public boolean matches(FileChannel ch) throws IOException {
    if (ch.size() != fileSize()) {
      return false;
    }
    boolean[] same = {true};
    emitMetadata(
        (buf, pos) -> {
          if (!same[0]) {
            return;
          }
          ByteBuffer want = buf.duplicate();
          ByteBuffer have = ByteBuffer.allocate(want.remaining());
          long p = pos;
          while (have.hasRemaining()) {
            int n = ch.read(have, p);
            if (n < 0) {
              same[0] = false;
              return;
            }
            p += n;
          }
          same[0] = have.flip().equals(want);
        });
    return same[0];
  }

  /** Where metadata goes: the file, or a comparison with it. */
  private interface Sink {
    void put(ByteBuffer buf, long pos) throws IOException;
  }

  private void emitMetadata(Sink out) throws IOException {
    out.put(header(), 0);
    emitL1(out);
    emitRefcounts(out);
    emitL2Tables(out);
  }

  private long firstDataCluster() {
    return 1 + l1Clusters + refTableClusters + refBlocks + l2Tables.length;
  }

  private long l1Offset() {
    return clusterSize;
  }

  private long refTableOffset() {
    return (1 + l1Clusters) * clusterSize;
  }

  private long refBlocksOffset() {
    return (1 + l1Clusters + refTableClusters) * clusterSize;
  }

  private long l2Offset(int tableIndex) {
    return (1 + l1Clusters + refTableClusters + refBlocks + tableIndex) * clusterSize;
  }

  private ByteBuffer header() {
    if (backingFile != null) {
      return headerWithBacking();
    }
    ByteBuffer h = ByteBuffer.allocate(HEADER_LENGTH + 8); // + the end-of-extensions marker
    putHeaderFields(h, 0, 0);
    h.putInt(0); // end of header extensions
    h.putInt(0);
    return h.flip();
  }

  /** Header, backing format extension ("qcow2"), end mark, backing file name. */
  private ByteBuffer headerWithBacking() {
    ByteBuffer h = ByteBuffer.allocate(BACKING_NAME_OFFSET + backingFile.length);
    putHeaderFields(h, BACKING_NAME_OFFSET, backingFile.length);
    h.putInt(EXT_BACKING_FORMAT);
    h.putInt(BACKING_FORMAT.length);
    h.put(BACKING_FORMAT);
    h.put(new byte[8 - BACKING_FORMAT.length]); // padded to 8 bytes
    h.putInt(0); // end of header extensions
    h.putInt(0);
    h.put(backingFile);
    return h.flip();
  }

  private void putHeaderFields(ByteBuffer h, long backingOffset, int backingSize) {
    h.putInt(Qcow2Header.MAGIC);
    h.putInt(3); // version
    h.putLong(backingOffset);
    h.putInt(backingSize);
    h.putInt(clusterBits);
    h.putLong(virtualSize);
    h.putInt(0); // no encryption
    h.putInt(Math.toIntExact(l1Entries));
    h.putLong(l1Offset());
    h.putLong(refTableOffset());
    h.putInt(Math.toIntExact(refTableClusters));
    h.putInt(0); // snapshots
    h.putLong(0);
    h.putLong(0); // incompatible features
    h.putLong(0); // compatible features
    h.putLong(0); // autoclear features
    h.putInt(REFCOUNT_ORDER);
    h.putInt(HEADER_LENGTH);
  }

  private void emitL1(Sink out) throws IOException {
    ByteBuffer l1 = ByteBuffer.allocate(Math.toIntExact(l1Clusters * clusterSize));
    for (int t = 0; t < l2Tables.length; t++) {
      l1.putLong(Math.toIntExact(l2Tables[t] * 8), l2Offset(t) | COPIED);
    }
    out.put(l1, l1Offset());
  }

  private void emitRefcounts(Sink out) throws IOException {
    ByteBuffer table = ByteBuffer.allocate(Math.toIntExact(refTableClusters * clusterSize));
    for (long b = 0; b < refBlocks; b++) {
      table.putLong(Math.toIntExact(b * 8), refBlocksOffset() + b * clusterSize);
    }
    out.put(table, refTableOffset());
    long used = firstDataCluster() + dataClusters;
    long perBlock = clusterSize / 2;
    ByteBuffer block = ByteBuffer.allocate((int) clusterSize);
    for (long b = 0; b < refBlocks; b++) {
      block.clear();
      Arrays.fill(block.array(), (byte) 0);
      long n = Math.min(perBlock, used - b * perBlock);
      for (int i = 0; i < n; i++) {
        block.putShort(i * 2, (short) 1);
      }
      out.put(block, refBlocksOffset() + b * clusterSize);
    }
  }

  private void emitL2Tables(Sink out) throws IOException {
    long perTable = clusterSize / 8;
    ByteBuffer l2 = ByteBuffer.allocate((int) clusterSize);
    int run = 0;
    for (int t = 0; t < l2Tables.length; t++) {
      l2.clear();
      Arrays.fill(l2.array(), (byte) 0);
      long first = l2Tables[t] * perTable;
      long end = first + perTable;
      while (run < runs.size() && runs.get(run)[0] + runs.get(run)[1] <= first) {
        run++;
      }
      for (int k = run; k < runs.size() && runs.get(k)[0] < end; k++) {
        long[] r = runs.get(k);
        for (long g = Math.max(first, r[0]); g < Math.min(end, r[0] + r[1]); g++) {
          long host = (r[2] + g - r[0]) << clusterBits;
          l2.putLong((int) ((g - first) * 8), host | COPIED);
        }
      }
      for (long[] z : zeroRuns) {
        for (long g = Math.max(first, z[0]); g < Math.min(end, z[0] + z[1]); g++) {
          l2.putLong((int) ((g - first) * 8), ZERO_CLUSTER);
        }
      }
      out.put(l2, l2Offset(t));
    }
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }
}
