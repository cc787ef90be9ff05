package org.diskferry.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.diskferry.http.Json;
import org.diskferry.transfer.UncachedFile;

/**
 * A disk of the sandbox: a sparse image file {@code <id>.img} plus metadata {@code <id>.json}
 * (including the record of written and zeroed ranges). Mutable fields are guarded by the
 * sandbox's engine lock; the channel and extents are thread-safe.
 */
final class Disk {
  final String id;
  final String imageId;
  final String storageDomainId;
  final long provisionedSize;
  final long createdMillis;
  String name;
  String description;
  String format; // raw | cow
  boolean sparse;
  String contentType;
  /** The initial_size the disk was created with (input-only in the API: kept here), or null. */
  Long initialSize;
  String backup; // none | incremental
  String status; // ok | locked | illegal
  /** When a new disk's creation finishes (System.nanoTime), or 0. */
  long readyAtNanos;
  /** The transfer holding the exclusive lock, or null. */
  String lockHolder;
  final ExtentMap extents = new ExtentMap();
  /**
   * Dirty bitmaps: per checkpoint id, the blocks written since that checkpoint was taken
   * (qcow2 disks of a VM only). The map is guarded by itself; each bitmap is thread-safe.
   */
  final Map<String, ExtentMap> bitmaps = new LinkedHashMap<>();
  /** Held by guest writes and by taking a backup's point-in-time copy. */
  final Object contentLock = new Object();
  final Path file;
  final Path metaFile;
  private volatile UncachedFile image;
  volatile boolean metaDirty;
  volatile boolean deleted;

  Disk(
      Path dir,
      String id,
      String imageId,
      String storageDomainId,
      long provisionedSize,
      long createdMillis) {
    this.id = id;
    this.imageId = imageId;
    this.storageDomainId = storageDomainId;
    this.provisionedSize = provisionedSize;
    this.createdMillis = createdMillis;
    this.file = dir.resolve(id + ".img");
    this.metaFile = dir.resolve(id + ".json");
  }

  /** Creates the sparse image file. */
  void createFile() throws IOException {
    try (RandomAccessFile raf = new RandomAccessFile(file.toFile(), "rw")) {
      raf.setLength(provisionedSize);
    }
  }

  /** The shared channel for positional I/O; opened on first use. */
  FileChannel channel() throws IOException {
    return file().channel();
  }

  /**
   * The image file, written around the page cache where the file system allows it, as
   * ovirt-imageio writes file storage (O_DIRECT).
   */
  UncachedFile file() throws IOException {
    UncachedFile c = image;
    if (c == null || !c.channel().isOpen()) {
      synchronized (this) {
        c = image;
        if (c == null || !c.channel().isOpen()) {
          if (deleted) {
            throw new IOException("disk " + id + " was removed");
          }
          if (!Files.exists(file)) {
            throw new java.nio.file.NoSuchFileException(file.toString());
          }
          c = UncachedFile.open(file);
          image = c;
        }
      }
    }
    return c;
  }

  synchronized void closeChannel() {
    if (image != null) {
      HttpServer.closeQuietly(image);
      image = null;
    }
  }

  long fileSize() {
    try {
      return Files.size(file);
    } catch (IOException e) {
      return provisionedSize;
    }
  }

  /** Dirty-bitmap granularity: writes mark whole blocks of this size (qemu's default). */
  static final long BITMAP_GRANULARITY = 64 * 1024;

  /** Marks [start, end) dirty, rounded out to whole blocks, in every bitmap of the disk. */
  void markDirty(long start, long end) {
    if (start >= end) {
      return;
    }
    long s = start / BITMAP_GRANULARITY * BITMAP_GRANULARITY;
    long e = Math.min(provisionedSize, (end + BITMAP_GRANULARITY - 1) / BITMAP_GRANULARITY * BITMAP_GRANULARITY);
    List<ExtentMap> all;
    synchronized (bitmaps) {
      all = new ArrayList<>(bitmaps.values());
    }
    for (ExtentMap m : all) {
      m.set(s, e, ExtentMap.DATA);
    }
  }

  /**
   * A copy of the disk as it is now, in {@code dir}: its data ranges copied into a new sparse
   * file, its extents, and, when {@code bitmap} names one of its bitmaps, a copy of that bitmap
   * in {@code dirty}; then, when {@code newBitmap} is not null, starts that new, empty bitmap, so
   * that every later write is dirty in it. Guest writes wait while the copy is taken; transfers
   * must not write to the disk (the caller holds it locked).
   */
  Disk pointInTimeCopy(Path dir, String bitmap, ExtentMap dirty, String newBitmap)
      throws IOException {
    Disk c = new Disk(dir, id, imageId, storageDomainId, provisionedSize, createdMillis);
    c.name = name;
    c.description = description;
    c.format = format;
    c.sparse = sparse;
    c.contentType = contentType;
    c.backup = backup;
    c.status = "ok";
    synchronized (contentLock) {
      c.createFile();
      FileChannel src = channel();
      ByteBuffer buf = ByteBuffer.allocate(1 << 20);
      try (FileChannel dst = FileChannel.open(c.file, StandardOpenOption.WRITE)) {
        for (long[] seg : extents.segments()) {
          c.extents.set(seg[0], seg[1], (int) seg[2]);
          if (seg[2] != ExtentMap.DATA) {
            continue;
          }
          for (long pos = seg[0]; pos < seg[1]; ) {
            buf.clear().limit((int) Math.min(buf.capacity(), seg[1] - pos));
            int n = src.read(buf, pos);
            if (n < 0) {
              break; // past the end of the file: the copy reads zeros there too
            }
            buf.flip();
            while (buf.hasRemaining()) {
              pos += dst.write(buf, pos);
            }
          }
        }
      }
      ExtentMap source;
      synchronized (bitmaps) {
        source = bitmap == null ? null : bitmaps.get(bitmap);
      }
      if (source != null) {
        for (long[] seg : source.segments()) {
          dirty.set(seg[0], seg[1], (int) seg[2]);
        }
      }
      if (newBitmap != null) {
        synchronized (bitmaps) {
          bitmaps.put(newBitmap, new ExtentMap());
        }
      }
    }
    return c;
  }

  /** Bytes written with data (an estimate of the allocation). */
  long actualSize() {
    return extents.total(ExtentMap.DATA);
  }

  ObjectNode toMeta() {
    ObjectNode m = Json.mapper().createObjectNode();
    m.put("id", id);
    m.put("image_id", imageId);
    m.put("storage_domain", storageDomainId);
    m.put("provisioned_size", provisionedSize);
    m.put("created", createdMillis);
    m.put("name", name);
    if (description != null) {
      m.put("description", description);
    }
    m.put("format", format);
    m.put("sparse", sparse);
    m.put("content_type", contentType);
    if (initialSize != null) {
      m.put("initial_size", initialSize);
    }
    m.put("backup", backup);
    m.put("status", "illegal".equals(status) ? "illegal" : "ok");
    ArrayNode ex = m.putArray("extents");
    for (long[] s : extents.segments()) {
      ex.addArray().add(s[0]).add(s[1]).add(s[2]);
    }
    return m;
  }

  static Disk fromMeta(Path dir, JsonNode m) {
    Disk d =
        new Disk(
            dir,
            m.path("id").asText(),
            m.path("image_id").asText(),
            m.path("storage_domain").asText(),
            m.path("provisioned_size").asLong(),
            m.path("created").asLong());
    d.name = m.path("name").asText("");
    d.description = m.hasNonNull("description") ? m.get("description").asText() : null;
    d.format = m.path("format").asText("raw");
    d.sparse = m.path("sparse").asBoolean(true);
    d.contentType = m.path("content_type").asText("data");
    d.initialSize = m.hasNonNull("initial_size") ? m.get("initial_size").asLong() : null;
    d.backup = m.path("backup").asText("none");
    d.status = m.path("status").asText("ok");
    for (JsonNode s : m.path("extents")) {
      d.extents.set(s.get(0).asLong(), s.get(1).asLong(), s.get(2).asInt());
    }
    return d;
  }

  /** Writes the metadata file atomically. */
  void saveMeta() throws IOException {
    if (deleted) {
      return;
    }
    metaDirty = false;
    Path tmp = metaFile.resolveSibling(metaFile.getFileName() + ".tmp");
    Files.write(tmp, Json.mapper().writerWithDefaultPrettyPrinter().writeValueAsBytes(toMeta()));
    try {
      Files.move(tmp, metaFile, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
    } catch (AtomicMoveNotSupportedException e) {
      Files.move(tmp, metaFile, StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /** Removes the image and metadata files. */
  void deleteFiles() throws IOException {
    deleted = true;
    closeChannel();
    Files.deleteIfExists(file);
    Files.deleteIfExists(metaFile);
  }
}
