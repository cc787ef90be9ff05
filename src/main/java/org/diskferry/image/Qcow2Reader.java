package org.diskferry.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.DataFormatException;
import java.util.zip.Inflater;
import org.diskferry.error.DiskferryException;
import org.diskferry.image.zstd.ZstdDecompressor;
import org.diskferry.image.zstd.ZstdException;

/**
 * Reads the guest-visible contents of a stand-alone qcow2 image (v2 or v3) by walking its L1 and
 * L2 tables: data clusters, zero clusters (the zero flag, bit 0 of an L2 entry), unallocated
 * clusters (read as zeros, since a backing file is not allowed), compressed clusters (deflate, or
 * zstd with compression type 1), and extended L2 entries (32 subclusters per cluster with
 * allocation and zero bitmaps).
 *
 * <p>{@link #openChain} also follows backing files (a backup chain): clusters the image leaves
 * unallocated read from its backing file, recursively, so the chain reads as one image.
 *
 * <p>Thread-safe: reads are positional; the L2 table cache and the cache of decompressed clusters
 * are small, bounded and synchronized.
 */
public final class Qcow2Reader implements ImageReader {
  private static final long OFFSET_MASK = 0x00fffffffffffe00L;
  private static final long COMPRESSED = 1L << 62;
  private static final long ZERO_FLAG = 1L;
  /** Memory budget of the L2 table cache. */
  private static final long L2_CACHE_BYTES = 16L << 20;
  /** Memory budget of the decompressed-cluster cache. */
  private static final long INFLATE_CACHE_BYTES = 8L << 20;
  private static final byte[] ZEROS = new byte[64 * 1024];

  private static final int UNALLOCATED = 0;
  private static final int ZERO = 1;
  private static final int DATA = 2;
  private static final int COMPRESSED_DATA = 3;

  private final Path path;
  private final FileChannel ch;
  private final Qcow2Header h;
  private final long size;
  private final long fileSize;
  private final int clusterBits;
  private final long clusterSize;
  private final boolean extended;
  /** log2 of the number of entries in an L2 table. */
  private final int l2Bits;
  /** log2 of the guest bytes one L1 entry maps. */
  private final int l1Shift;
  /** log2 of the unit the map is kept in: a subcluster with extended L2, else a cluster. */
  private final int unitBits;
  private final long[] l1;
  private final Map<Long, long[]> l2Cache;
  private final Map<Long, byte[]> inflated;
  /** What unallocated clusters read from ({@link #openChain}), or null: they read as zeros. */
  private final ImageReader backing;
  /** The backing file's extents, computed on first use. */
  private List<Extent> backingExtents;
  /** Longest backing chain {@link #openChain} follows. */
  static final int MAX_CHAIN = 64;

  /** Inspects {@code path} and opens it; BAD_INPUT if it is not an acceptable qcow2 image. */
  public static Qcow2Reader open(Path path) throws IOException {
    ImageInfo info = ImageInspector.inspect(path);
    if (info.format() != ImageFormat.QCOW2) {
      throw DiskferryException.badInput(path + " is not a qcow2 image");
    }
    return new Qcow2Reader(path, info.qcow2());
  }

  Qcow2Reader(Path path, Qcow2Header header) throws IOException {
    this(path, header, header, null);
  }

  /** {@code checked} is the header as {@link ImageInspector#check} sees it. */
  private Qcow2Reader(Path path, Qcow2Header header, Qcow2Header checked, ImageReader backing)
      throws IOException {
    this.path = path;
    this.backing = backing;
    this.ch = FileChannel.open(path, StandardOpenOption.READ);
    try {
      this.fileSize = ch.size();
      ImageInspector.check(path, ch, checked, fileSize);
      this.h = header;
      this.size = header.size();
      this.clusterBits = header.clusterBits();
      this.clusterSize = 1L << clusterBits;
      this.extended = header.extendedL2();
      this.l2Bits = clusterBits - (extended ? 4 : 3);
      this.l1Shift = clusterBits + l2Bits;
      this.unitBits = extended ? clusterBits - 5 : clusterBits;
      long needed = l1Shift >= 63 ? 1 : (size + (1L << l1Shift) - 1) >>> l1Shift;
      this.l1 = new long[(int) needed];
      if (needed > 0) {
        ByteBuffer b = ByteBuffer.allocate((int) needed * 8);
        Qcow2Header.readFully(ch, b, header.l1TableOffset(), b.capacity());
        b.asLongBuffer().get(l1);
      }
      int maxTables = (int) Math.max(2, L2_CACHE_BYTES / clusterSize);
      this.l2Cache = lru(maxTables);
      int maxInflated = (int) Math.max(2, INFLATE_CACHE_BYTES / clusterSize);
      this.inflated = lru(maxInflated);
    } catch (IOException | RuntimeException e) {
      ch.close();
      throw e;
    }
  }

  private static <V> Map<Long, V> lru(int max) {
    return new LinkedHashMap<>(16, 0.75f, true) {
      @Override
      protected boolean removeEldestEntry(Map.Entry<Long, V> eldest) {
        return size() > max;
      }
    };
  }

  /** The header this reader was opened with. */
  public Qcow2Header header() {
    return h;
  }

  @Override
  public long size() {
    return size;
  }

  // ---- the map ----

  /** Where one guest unit (cluster, or subcluster with extended L2) lives. */
  private record Unit(int type, long host, long guestStart, long guestEnd) {}

  /** The mapping of the unit containing guest offset {@code g} (or of the whole L1 span). */
  private Unit unit(long g) throws IOException {
    int l1Index = (int) (g >>> l1Shift);
    long l2Offset = l1[l1Index] & OFFSET_MASK;
    if (l2Offset == 0) {
      long start = (long) l1Index << l1Shift;
      return new Unit(UNALLOCATED, 0, start, start + (1L << l1Shift));
    }
    long[] table = l2Table(l2Offset);
    int l2Index = (int) ((g >>> clusterBits) & ((1L << l2Bits) - 1));
    long clusterStart = (g >>> clusterBits) << clusterBits;
    if (!extended) {
      return classify(table[l2Index], 0, 0, clusterStart);
    }
    int sc = (int) ((g - clusterStart) >>> unitBits);
    return classify(table[2 * l2Index], table[2 * l2Index + 1], sc, clusterStart);
  }

  private Unit classify(long entry, long bitmap, int sc, long clusterStart) throws IOException {
    if ((entry & COMPRESSED) != 0) {
      if (bitmap != 0) {
        throw corrupt("compressed cluster at guest offset " + clusterStart + " has a bitmap");
      }
      return new Unit(COMPRESSED_DATA, entry, clusterStart, clusterStart + clusterSize);
    }
    long host = entry & OFFSET_MASK;
    if (host != 0 && (host & (clusterSize - 1)) != 0) {
      throw corrupt("unaligned cluster offset " + host + " at guest offset " + clusterStart);
    }
    if (!extended) {
      long end = clusterStart + clusterSize;
      if ((entry & ZERO_FLAG) != 0) {
        return new Unit(ZERO, 0, clusterStart, end);
      }
      return new Unit(host == 0 ? UNALLOCATED : DATA, host, clusterStart, end);
    }
    long scSize = 1L << unitBits;
    long start = clusterStart + sc * scSize;
    boolean alloc = ((bitmap >>> sc) & 1) != 0;
    boolean zero = ((bitmap >>> (32 + sc)) & 1) != 0;
    if (alloc && zero) {
      throw corrupt("subcluster both allocated and zero at guest offset " + start);
    }
    if (zero) {
      return new Unit(ZERO, 0, start, start + scSize);
    }
    if (alloc) {
      if (host == 0) {
        throw corrupt("allocated subcluster without a host cluster at guest offset " + start);
      }
      return new Unit(DATA, host + sc * scSize, start, start + scSize);
    }
    return new Unit(UNALLOCATED, 0, start, start + scSize);
  }

  private long[] l2Table(long offset) throws IOException {
    synchronized (l2Cache) {
      long[] t = l2Cache.get(offset);
      if (t != null) {
        return t;
      }
    }
    if ((offset & (clusterSize - 1)) != 0 || offset + clusterSize > fileSize) {
      throw corrupt("invalid L2 table offset " + offset);
    }
    ByteBuffer b = ByteBuffer.allocate((int) clusterSize);
    Qcow2Header.readFully(ch, b, offset, b.capacity());
    long[] t = new long[(int) (clusterSize / 8)];
    b.asLongBuffer().get(t);
    synchronized (l2Cache) {
      l2Cache.put(offset, t);
    }
    return t;
  }

  @Override
  public List<Extent> extents() throws IOException {
    ExtentList out = new ExtentList();
    long g = 0;
    while (g < size) {
      Unit u = unit(g);
      long end = Math.min(u.guestEnd, size);
      if (u.type == UNALLOCATED && backing != null) {
        addBackingExtents(out, g, end);
      } else {
        out.add(g, end - g, u.type == ZERO || u.type == UNALLOCATED);
      }
      g = end;
    }
    return out.build();
  }

  // ---- backing chains ----

  /**
   * Opens a qcow2 image with its backing chain: clusters it leaves unallocated read from its
   * backing file (a path relative to the image's directory, or absolute; qcow2, or raw when the
   * header's backing format says so), recursively. An image without a backing file opens as
   * {@link #open} does.
   *
   * @throws DiskferryException BAD_INPUT when a file of the chain is missing or not a usable
   *     image, when the chain loops, or when it is longer than {@value #MAX_CHAIN} files
   */
  public static Qcow2Reader openChain(Path path) throws IOException {
    return openChain(path, path, new java.util.HashSet<>(), 0);
  }

  private static Qcow2Reader openChain(Path top, Path path, java.util.Set<Path> seen, int depth)
      throws IOException {
    if (!java.nio.file.Files.isRegularFile(path)) {
      throw DiskferryException.badInput(path.equals(top)
          ? path + " does not exist or is not a regular file"
          : "the backing chain of " + top + " is broken: " + path + " is missing");
    }
    if (!seen.add(path.toRealPath())) {
      throw DiskferryException.badInput("the backing chain of " + top + " loops: " + path
          + " is its own backing file");
    }
    if (depth >= MAX_CHAIN) {
      throw DiskferryException.badInput("the backing chain of " + top + " is longer than "
          + MAX_CHAIN + " files");
    }
    Qcow2Header h;
    String format;
    try (FileChannel c = FileChannel.open(path, StandardOpenOption.READ)) {
      h = Qcow2Header.read(c);
      format = h.backingFile() == null ? null : backingFormat(c, h);
    } catch (IOException e) {
      throw DiskferryException.badInput(path + " is not a usable qcow2 image: " + e.getMessage());
    }
    if (h.backingFile() == null) {
      return open(path);
    }
    Path name = Path.of(h.backingFile());
    Path parent = path.toAbsolutePath().getParent();
    Path next = name.isAbsolute() || parent == null ? name : parent.resolve(name);
    ImageReader below;
    if ("raw".equals(format)) {
      if (!java.nio.file.Files.isRegularFile(next)) {
        throw DiskferryException.badInput("the backing chain of " + top + " is broken: " + next
            + " is missing");
      }
      below = new RawReader(next);
    } else if (format == null || format.equals("qcow2")) {
      below = openChain(top, next, seen, depth + 1);
    } else {
      throw DiskferryException.badInput(path + " has a backing file in format " + format
          + ", which diskferry does not read; flatten it first: qemu-img convert -O qcow2 "
          + ImageInspector.shellQuote(path.toString()) + " FLAT.qcow2");
    }
    try {
      Qcow2Header standalone = new Qcow2Header(h.version(), h.size(), h.clusterBits(),
          h.l1TableOffset(), h.l1Size(), h.refcountTableOffset(), h.crypt(),
          h.incompatibleFeatures(), h.compatibleFeatures(), h.autoclearFeatures(),
          h.compressionType(), h.extendedL2(), null);
      return new Qcow2Reader(path, h, standalone, below);
    } catch (IOException | RuntimeException e) {
      below.close();
      throw e;
    }
  }

  /** The backing format header extension's value (e.g. {@code qcow2}), or null. */
  private static String backingFormat(FileChannel ch, Qcow2Header h) throws IOException {
    if (h.version() < 3) {
      return null;
    }
    ByteBuffer b = ByteBuffer.allocate(8);
    Qcow2Header.readFully(ch, b, 100, 4);
    long pos = b.getInt(0) & 0xffffffffL;
    long limit = Math.min(h.clusterSize(), ch.size());
    while (pos + 8 <= limit) {
      Qcow2Header.readFully(ch, b, pos, 8);
      int type = b.getInt(0);
      long len = b.getInt(4) & 0xffffffffL;
      if (type == 0 || pos + 8 + len > limit) {
        return null;
      }
      if (type == 0xE2792ACA && len <= 64) {
        ByteBuffer f = ByteBuffer.allocate((int) len);
        Qcow2Header.readFully(ch, f, pos + 8, (int) len);
        return new String(f.array(), 0, (int) len, java.nio.charset.StandardCharsets.UTF_8);
      }
      pos += 8 + ((len + 7) & ~7L);
    }
    return null;
  }

  /** The backing file's bytes at {@code g}; zeros past its end (a backing file may be smaller). */
  private void readBacking(long g, int n, ByteBuffer dst) throws IOException {
    long have = Math.max(0, Math.min(n, backing.size() - g));
    int oldLimit = dst.limit();
    dst.limit(dst.position() + (int) have);
    try {
      long pos = g;
      while (dst.hasRemaining()) {
        int k = backing.read(pos, dst);
        if (k <= 0) {
          putZeros(dst, dst.remaining());
          break;
        }
        pos += k;
      }
    } finally {
      dst.limit(oldLimit);
    }
    putZeros(dst, n - (int) have);
  }

  /** The backing file's extents over [start, end): zeros past its end. */
  private void addBackingExtents(ExtentList out, long start, long end) throws IOException {
    List<Extent> below;
    synchronized (this) {
      if (backingExtents == null) {
        backingExtents = backing.extents();
      }
      below = backingExtents;
    }
    int lo = 0;
    int hi = below.size();
    while (lo < hi) { // the first extent ending after start
      int mid = (lo + hi) >>> 1;
      if (below.get(mid).end() <= start) {
        lo = mid + 1;
      } else {
        hi = mid;
      }
    }
    long g = start;
    for (int i = lo; i < below.size() && g < end; i++) {
      Extent e = below.get(i);
      long stop = Math.min(e.end(), end);
      if (stop > g) {
        out.add(g, stop - g, e.zero());
        g = stop;
      }
    }
    if (g < end) {
      out.add(g, end - g, true);
    }
  }

  // ---- reading ----

  @Override
  public int read(long offset, ByteBuffer dst) throws IOException {
    if (offset < 0) {
      throw new IllegalArgumentException("negative offset " + offset);
    }
    if (offset >= size) {
      return dst.hasRemaining() ? -1 : 0;
    }
    int want = (int) Math.min(dst.remaining(), size - offset);
    long g = offset;
    long end = offset + want;
    // a pending run of data contiguous in the file, read with one positional read
    long runHost = -1;
    int runLen = 0;
    while (g < end) {
      Unit u = unit(g);
      int n = (int) (Math.min(u.guestEnd, end) - g);
      if (u.type == DATA) {
        long host = u.host + (g - u.guestStart);
        if (runLen > 0 && runHost + runLen == host) {
          runLen += n;
        } else {
          readData(runHost, runLen, dst);
          runHost = host;
          runLen = n;
        }
      } else {
        readData(runHost, runLen, dst);
        runLen = 0;
        if (u.type == COMPRESSED_DATA) {
          byte[] c = decompress(u.host, u.guestStart);
          dst.put(c, (int) (g - u.guestStart), n);
        } else if (u.type == UNALLOCATED && backing != null) {
          readBacking(g, n, dst);
        } else {
          putZeros(dst, n);
        }
      }
      g += n;
    }
    readData(runHost, runLen, dst);
    return want;
  }

  /**
   * Reads {@code len} bytes at host offset {@code host}. The last cluster may be cut short by the
   * end of the file (QEMU reads the rest as zeros, and so does this); the file ending before the
   * size it had when it was opened means it shrank meanwhile: an error.
   */
  private void readData(long host, int len, ByteBuffer dst) throws IOException {
    if (len == 0) {
      return;
    }
    int oldLimit = dst.limit();
    int stop = dst.position() + len;
    dst.limit(stop);
    try {
      while (dst.hasRemaining()) {
        long at = host + len - dst.remaining();
        int n = ch.read(dst, at);
        if (n < 0) {
          if (at < fileSize) {
            throw new java.io.EOFException(
                path + " became shorter while it was read (" + at + " of " + fileSize + " bytes)");
          }
          putZeros(dst, dst.remaining());
        }
      }
    } finally {
      dst.limit(oldLimit);
    }
  }

  private static void putZeros(ByteBuffer dst, int n) {
    while (n > 0) {
      int k = Math.min(n, ZEROS.length);
      dst.put(ZEROS, 0, k);
      n -= k;
    }
  }

  /** The decompressed contents of the compressed cluster described by L2 entry {@code entry}. */
  private byte[] decompress(long entry, long guestStart) throws IOException {
    int x = 62 - (clusterBits - 8);
    long host = entry & ((1L << x) - 1);
    long sectors = ((entry & ~COMPRESSED & ~(1L << 63)) >>> x) + 1;
    synchronized (inflated) {
      byte[] c = inflated.get(host);
      if (c != null) {
        return c;
      }
    }
    long len = sectors * 512 - (host & 511);
    len = Math.min(len, fileSize - host);
    if (host <= 0 || len <= 0 || len > 2 * clusterSize + 512) {
      throw corrupt("invalid compressed cluster at guest offset " + guestStart);
    }
    // one spare byte: raw inflate may want to look past the end of the stream
    ByteBuffer in = ByteBuffer.allocate((int) len + 1);
    Qcow2Header.readFully(ch, in, host, (int) len);
    byte[] out = new byte[(int) clusterSize];
    if (h.compressionType() == Qcow2Header.COMPRESSION_ZSTD) {
      unzstd(in.array(), (int) len, out, guestStart);
    } else {
      inflate(in.array(), (int) len + 1, out, guestStart);
    }
    synchronized (inflated) {
      inflated.put(host, out);
    }
    return out;
  }

  /** Raw deflate of a cluster, as QEMU writes it with compression type 0. */
  private void inflate(byte[] in, int len, byte[] out, long guestStart) throws IOException {
    Inflater inf = new Inflater(true);
    try {
      inf.setInput(in, 0, len);
      int got = 0;
      while (got < out.length) {
        int n = inf.inflate(out, got, out.length - got);
        if (n == 0) {
          break;
        }
        got += n;
      }
      if (got != out.length) {
        throw corrupt(
            "compressed cluster at guest offset " + guestStart + " inflates to " + got + " bytes");
      }
    } catch (DataFormatException e) {
      throw corrupt("bad compressed cluster at guest offset " + guestStart + ": " + e.getMessage());
    } finally {
      inf.end();
    }
  }

  /**
   * Zstandard frames of a cluster, as QEMU writes them with compression type 1: decoded until the
   * cluster is full; the rest of the last sector is padding.
   */
  private void unzstd(byte[] in, int len, byte[] out, long guestStart) throws IOException {
    try {
      ZstdDecompressor.decompressExactly(in, 0, len, out, 0, out.length);
    } catch (ZstdException e) {
      throw corrupt("bad zstd-compressed cluster at guest offset " + guestStart + ": "
          + e.getMessage());
    }
  }

  private IOException corrupt(String what) {
    return new IOException(
        path + " is a damaged qcow2 image: " + what + "; check it with: qemu-img check "
            + ImageInspector.shellQuote(path.toString()));
  }

  @Override
  public void close() throws IOException {
    try {
      ch.close();
    } finally {
      if (backing != null) {
        backing.close();
      }
    }
  }
}
