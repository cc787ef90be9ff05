package org.diskferry.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
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
 */
public final class Qcow2Writer {
  /** 64 KiB clusters, qemu-img's and oVirt's default. */
  public static final int DEFAULT_CLUSTER_BITS = 16;

  private static final int HEADER_LENGTH = 104;
  private static final int REFCOUNT_ORDER = 4; // 16-bit refcounts, as qemu-img makes them
  private static final long COPIED = 1L << 63; // refcount is exactly 1

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
  /** Guest cluster runs that read as zeros whatever the backing file holds: [first, count]. */
  private final List<long[]> zeroRuns;
  /** The backing file's name as the header records it, or null for a standalone image. */
  private final String backingFile;
  private final String backingFormat;

  private Qcow2Writer(long virtualSize, int clusterBits, List<Extent> extents) {
    this(virtualSize, clusterBits, extents, List.of(), null, null);
  }

  private Qcow2Writer(
      long virtualSize,
      int clusterBits,
      List<Extent> extents,
      List<Extent> zeroed,
      String backingFile,
      String backingFormat) {
    if (clusterBits < 9 || clusterBits > 21) {
      throw new IllegalArgumentException("cluster bits " + clusterBits + " out of 9..21");
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
    this.backingFile = backingFile;
    this.backingFormat = backingFormat;
    this.zeroRuns = zeroClusterRuns(zeroed, virtualSize, clusterBits);

    java.util.TreeSet<Long> tables = new java.util.TreeSet<>();
    for (List<long[]> list : List.of(guestRuns, zeroRuns)) {
      for (long[] r : list) {
        for (long t = r[0] / l2PerTable; t <= (r[0] + r[1] - 1) / l2PerTable; t++) {
          tables.add(t);
        }
      }
    }
    this.l2Tables = tables.stream().mapToLong(Long::longValue).toArray();
    if (headerBytes() > clusterSize) {
      throw new IllegalArgumentException("the backing file name does not fit in the header");
    }

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
   * A layout for an image of {@code virtualSize} bytes whose data lies in the non-zero extents of
   * {@code extents} (in order, not overlapping).
   */
  public static Qcow2Writer plan(long virtualSize, List<Extent> extents, int clusterBits) {
    return new Qcow2Writer(virtualSize, clusterBits, extents);
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
    ByteBuffer ext = headerExtensions();
    ByteBuffer h = ByteBuffer.allocate(HEADER_LENGTH + ext.remaining());
    h.putInt(Qcow2Header.MAGIC);
    h.putInt(3); // version
    byte[] name = backingName();
    h.putLong(name.length == 0 ? 0 : HEADER_LENGTH + ext.remaining() - name.length);
    h.putInt(name.length);
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
    h.put(ext);
    return h.flip();
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
      putZeroClusters(l2, first, end);
      out.put(l2, l2Offset(t));
    }
  }

  private static long ceilDiv(long a, long b) {
    return (a + b - 1) / b;
  }

  // ------------------------------------------------------- backing files and zero clusters

  /** qcow2's header extension that names the backing file's format. */
  private static final int BACKING_FORMAT_EXTENSION = 0xE2792ACA;

  /** An L2 entry's flag: the cluster reads as zeros (qcow2 v3), not from the backing file. */
  private static final long ZERO_FLAG = 1L;

  /**
   * A layout for an image on top of a backing file (an incremental backup): the non-zero extents
   * of {@code data} get host clusters, the extents of {@code zeroed} become zero clusters (they
   * read as zeros, not from the backing file), and everything else reads through to {@code
   * backingFile}. Data extents should cover whole clusters (a partly written cluster hides the
   * rest of the backing file's cluster); zero extents mark only the clusters they cover whole.
   *
   * @param backingFile the name the header records, e.g. a path relative to this image's folder
   * @param backingFormat e.g. {@code qcow2}
   */
  public static Qcow2Writer planOverlay(
      long virtualSize,
      List<Extent> data,
      List<Extent> zeroed,
      String backingFile,
      String backingFormat) {
    if (backingFile == null || backingFile.isEmpty() || backingFormat == null) {
      throw new IllegalArgumentException("an overlay needs a backing file and its format");
    }
    return new Qcow2Writer(
        virtualSize, DEFAULT_CLUSTER_BITS, data, zeroed, backingFile, backingFormat);
  }

  /**
   * A layout for an image over the qcow2 image {@code backingFile} (stored as given: a path
   * relative to this image's directory, or absolute): the extents hold what this image defines,
   * data (non-zero extents) or zeros (zero extents, which hide the backing file's data); the rest
   * reads from the backing file. Every extent must start and end on a cluster boundary (or at the
   * image's end), since a partly defined cluster would hide the rest of the backing cluster.
   */
  public static Qcow2Writer plan(
      long virtualSize, List<Extent> extents, int clusterBits, String backingFile) {
    if (backingFile == null || backingFile.isEmpty()) {
      throw new IllegalArgumentException("an image over a backing file needs its name");
    }
    long cluster = 1L << clusterBits;
    List<Extent> data = new ArrayList<>();
    List<Extent> zeroed = new ArrayList<>();
    // Runs of adjacent extents must cover whole clusters; inside a run, a cluster with any data
    // is allocated (its zeros are the unwritten part of a new cluster), a cluster of zeros alone
    // becomes a zero cluster.
    long runStart = -1;
    long runEnd = -1;
    for (Extent e : extents) {
      if (e.start() != runEnd) {
        checkRun(runStart, runEnd, cluster, virtualSize);
        runStart = e.start();
      }
      runEnd = e.end();
      (e.zero() ? zeroed : data).add(e);
    }
    checkRun(runStart, runEnd, cluster, virtualSize);
    return new Qcow2Writer(virtualSize, clusterBits, data, zeroed, backingFile, "qcow2");
  }

  private static void checkRun(long start, long end, long cluster, long virtualSize) {
    if (start >= 0 && (start % cluster != 0 || (end % cluster != 0 && end != virtualSize))) {
      throw new IllegalArgumentException(
          "the extents " + start + "-" + end + " of an image over a backing file are not on"
              + " cluster boundaries");
    }
  }

    /** The backing file name this image refers to, or null. */
  public String backingFile() {
    return backingFile;
  }

  /** Clusters that read as zeros without holding data (in an overlay). */
  public long zeroClusters() {
    long n = 0;
    for (long[] r : zeroRuns) {
      n += r[1];
    }
    return n;
  }

  private static List<long[]> zeroClusterRuns(List<Extent> zeroed, long virtualSize, int bits) {
    List<long[]> out = new ArrayList<>();
    long size = 1L << bits;
    for (Extent e : zeroed) {
      long first = ceilDiv(e.start(), size);
      long end = Math.min(e.end(), virtualSize);
      // The last cluster of the image may be short: covering up to the image's end covers it.
      long last = (end == virtualSize ? ceilDiv(end, size) : end / size) - 1;
      if (last < first) {
        continue;
      }
      long[] prev = out.isEmpty() ? null : out.get(out.size() - 1);
      if (prev != null && first < prev[0] + prev[1]) {
        throw new IllegalArgumentException("zero extents out of order at " + e.start());
      }
      if (prev != null && first == prev[0] + prev[1]) {
        prev[1] += last - first + 1;
      } else {
        out.add(new long[] {first, last - first + 1});
      }
    }
    return out;
  }

  /** Marks the zero clusters among guest clusters {@code [first, end)} in their L2 table. */
  private void putZeroClusters(ByteBuffer l2, long first, long end) {
    for (long[] r : zeroRuns) {
      for (long g = Math.max(first, r[0]); g < Math.min(end, r[0] + r[1]); g++) {
        int at = (int) ((g - first) * 8);
        if (l2.getLong(at) == 0) { // a data cluster wins
          l2.putLong(at, ZERO_FLAG);
        }
      }
    }
  }

  private byte[] backingName() {
    return backingFile == null
        ? new byte[0]
        : backingFile.getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  /**
   * The header extensions (the backing format, when there is a backing file), the end marker, and
   * the backing file's name after them.
   */
  private ByteBuffer headerExtensions() {
    byte[] name = backingName();
    byte[] format =
        backingFormat == null
            ? new byte[0]
            : backingFormat.getBytes(java.nio.charset.StandardCharsets.US_ASCII);
    int padded = (format.length + 7) & ~7;
    ByteBuffer b =
        ByteBuffer.allocate((format.length == 0 ? 0 : 8 + padded) + 8 + name.length);
    if (format.length > 0) {
      b.putInt(BACKING_FORMAT_EXTENSION);
      b.putInt(format.length);
      b.put(format);
      b.position(b.position() + padded - format.length);
    }
    b.putInt(0); // end of header extensions
    b.putInt(0);
    b.put(name);
    return b.flip();
  }

  private long headerBytes() {
    return HEADER_LENGTH + (long) headerExtensions().remaining();
  }
}
