package org.diskferry.image;

import java.io.EOFException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.TreeMap;

/**
 * The fields of a qcow2 header that diskferry needs (QEMU's docs/interop/qcow2.txt). All fields
 * are read as stored; {@link ImageInspector} decides what is acceptable.
 *
 * @param version 2 (compat=0.10) or 3 (compat=1.1)
 * @param size virtual size in bytes
 * @param clusterBits log2 of the cluster size
 * @param l1TableOffset file offset of the active L1 table
 * @param l1Size number of L1 entries
 * @param refcountTableOffset file offset of the refcount table
 * @param crypt 0 none, 1 AES, 2 LUKS
 * @param incompatibleFeatures v3 incompatible feature bits (0 for v2)
 * @param compatibleFeatures v3 compatible feature bits (0 for v2)
 * @param autoclearFeatures v3 autoclear feature bits (0 for v2)
 * @param compressionType 0 deflate (zlib), 1 zstd
 * @param extendedL2 whether L2 entries carry a subcluster bitmap (incompatible bit 4)
 * @param backingFile the backing file name, or {@code null} if there is none
 */
public record Qcow2Header(
    int version,
    long size,
    int clusterBits,
    long l1TableOffset,
    int l1Size,
    long refcountTableOffset,
    int crypt,
    long incompatibleFeatures,
    long compatibleFeatures,
    long autoclearFeatures,
    int compressionType,
    boolean extendedL2,
    String backingFile) {

  /** "QFI\xfb". */
  public static final int MAGIC = 0x514649fb;

  public static final long INCOMPAT_DIRTY = 1L;
  public static final long INCOMPAT_CORRUPT = 1L << 1;
  public static final long INCOMPAT_EXTERNAL_DATA_FILE = 1L << 2;
  public static final long INCOMPAT_COMPRESSION_TYPE = 1L << 3;
  public static final long INCOMPAT_EXTENDED_L2 = 1L << 4;
  /** The incompatible features this reader knows how to handle (or to reject by name). */
  public static final long INCOMPAT_KNOWN =
      INCOMPAT_DIRTY
          | INCOMPAT_CORRUPT
          | INCOMPAT_EXTERNAL_DATA_FILE
          | INCOMPAT_COMPRESSION_TYPE
          | INCOMPAT_EXTENDED_L2;

  public static final int COMPRESSION_DEFLATE = 0;
  public static final int COMPRESSION_ZSTD = 1;

  private static final int EXT_END = 0;
  private static final int EXT_FEATURE_TABLE = 0x6803f857;

  /** Cluster size in bytes. */
  public long clusterSize() {
    return 1L << clusterBits;
  }

  /** Lazy-refcounts dirty bit: refcounts may be stale; the guest data is still readable. */
  public boolean dirty() {
    return (incompatibleFeatures & INCOMPAT_DIRTY) != 0;
  }

  /** QEMU found metadata corruption and marked the image; it must not be trusted. */
  public boolean corrupt() {
    return (incompatibleFeatures & INCOMPAT_CORRUPT) != 0;
  }

  /** Guest data lives in a separate file, not in this one. */
  public boolean externalDataFile() {
    return (incompatibleFeatures & INCOMPAT_EXTERNAL_DATA_FILE) != 0;
  }

  /**
   * Reads the header at the start of {@code ch}.
   *
   * @throws IOException if the file is shorter than a header or the magic is not qcow2's
   */
  public static Qcow2Header read(FileChannel ch) throws IOException {
    ByteBuffer b = ByteBuffer.allocate(112);
    readFully(ch, b, 0, 72);
    if (b.getInt(0) != MAGIC) {
      throw new IOException("not a qcow2 image (bad magic)");
    }
    int version = b.getInt(4);
    long backingOffset = b.getLong(8);
    int backingSize = b.getInt(16);
    int clusterBits = b.getInt(20);
    long size = b.getLong(24);
    int crypt = b.getInt(32);
    int l1Size = b.getInt(36);
    long l1Offset = b.getLong(40);
    long refcountOffset = b.getLong(48);
    long incompat = 0;
    long compat = 0;
    long autoclear = 0;
    int compression = COMPRESSION_DEFLATE;
    if (version >= 3) {
      b.clear();
      readFully(ch, b, 0, 104);
      incompat = b.getLong(72);
      compat = b.getLong(80);
      autoclear = b.getLong(88);
      int headerLength = b.getInt(100);
      if (headerLength > 104) {
        b.clear();
        readFully(ch, b, 0, 105);
        compression = b.get(104) & 0xff;
      }
    }
    String backing = null;
    if (backingOffset != 0) {
      int n = Math.max(0, Math.min(backingSize, 4096));
      ByteBuffer nb = ByteBuffer.allocate(n);
      readFully(ch, nb, backingOffset, n);
      backing = new String(nb.array(), 0, n, StandardCharsets.UTF_8);
    }
    return new Qcow2Header(
        version,
        size,
        clusterBits,
        l1Offset,
        l1Size,
        refcountOffset,
        crypt,
        incompat,
        compat,
        autoclear,
        compression,
        (incompat & INCOMPAT_EXTENDED_L2) != 0,
        backing);
  }

  /**
   * The names of incompatible features from the header's feature name table (bit → name), for
   * error messages; empty if the image has no table or it cannot be read.
   */
  static Map<Integer, String> incompatibleFeatureNames(FileChannel ch, Qcow2Header h) {
    Map<Integer, String> names = new TreeMap<>();
    try {
      ByteBuffer b = ByteBuffer.allocate(8);
      long pos = 72;
      if (h.version >= 3) {
        readFully(ch, b, 100, 4);
        pos = b.getInt(0) & 0xffffffffL;
      }
      long limit = Math.min(h.clusterSize(), ch.size());
      while (pos + 8 <= limit) {
        b.clear();
        readFully(ch, b, pos, 8);
        int type = b.getInt(0);
        long len = b.getInt(4) & 0xffffffffL;
        if (type == EXT_END || pos + 8 + len > limit) {
          break;
        }
        if (type == EXT_FEATURE_TABLE) {
          ByteBuffer t = ByteBuffer.allocate((int) len);
          readFully(ch, t, pos + 8, (int) len);
          for (int i = 0; i + 48 <= len; i += 48) {
            if (t.get(i) == 0) {
              int bit = t.get(i + 1) & 0xff;
              int end = 0;
              while (end < 46 && t.get(i + 2 + end) != 0) {
                end++;
              }
              names.put(bit, new String(t.array(), i + 2, end, StandardCharsets.UTF_8));
            }
          }
        }
        pos += 8 + ((len + 7) & ~7L);
      }
    } catch (IOException e) {
      // names are a courtesy for messages
    }
    return names;
  }

  static void readFully(FileChannel ch, ByteBuffer b, long pos, int len) throws IOException {
    b.clear().limit(len);
    while (b.hasRemaining()) {
      int n = ch.read(b, pos + b.position());
      if (n < 0) {
        throw new EOFException("unexpected end of file at offset " + (pos + b.position()));
      }
    }
    b.flip();
  }
}
