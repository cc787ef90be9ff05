package org.diskferry.transfer;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

/**
 * A file that a download writes around the page cache (O_DIRECT) where the file system allows it.
 *
 * <p>A disk image is written once and not read again soon; through the page cache every byte is
 * copied into memory the kernel must first find (on a virtual machine often never touched
 * before, which is slow), the copy evicts what the host had cached, and the final fsync then
 * waits for all of it. Direct writes go from the buffer to the device and are as good as synced
 * when they return. Block-aligned whole blocks are written directly; everything else (a tail
 * shorter than a block, reads, truncation, the size) goes through an ordinary channel on the
 * same file. Network and FUSE file systems (see {@link #directSuits}), file systems without
 * O_DIRECT, and those that refuse a direct write get ordinary writes: the first refusal switches
 * direct writing off.
 *
 * <p>Positional writes from several threads at once are fine (each thread stages its blocks in a
 * buffer of its own). A write that fails throws {@link LocalWriteException} naming the file: a
 * fault of this machine, which no retry of a network request can mend.
 */
public final class UncachedFile implements java.io.Closeable {

  /** The alignment of direct writes: offsets, lengths and buffer addresses. */
  public static final int BLOCK = 4096;

  private static final int STAGING = 4 << 20;

  private final Path path;
  private final FileChannel buffered;
  private volatile FileChannel direct;
  /** One aligned staging buffer per thread, whatever the number of files it writes. */
  private static final ThreadLocal<ByteBuffer> staging =
      ThreadLocal.withInitial(
          () -> ByteBuffer.allocateDirect(STAGING + BLOCK).alignedSlice(BLOCK));

  UncachedFile(FileChannel buffered, FileChannel direct) {
    this(null, buffered, direct);
  }

  UncachedFile(Path path, FileChannel buffered, FileChannel direct) {
    this.path = path;
    this.buffered = buffered;
    this.direct = direct;
  }

  /** Opens (creating it if needed) {@code path} for reading and writing. */
  public static UncachedFile open(Path path) throws IOException {
    FileChannel buffered = FileChannel.open(path, StandardOpenOption.CREATE,
        StandardOpenOption.READ, StandardOpenOption.WRITE);
    FileChannel direct = null;
    if (directSuits(fileSystemType(path))) {
      try {
        direct = FileChannel.open(path, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT);
      } catch (IOException | UnsupportedOperationException e) {
        direct = null; // no O_DIRECT on this file system: ordinary writes
      } catch (LinkageError e) {
        direct = null; // a runtime built without jdk.unsupported, which defines the option
      }
    }
    return new UncachedFile(path, buffered, direct);
  }

  private static String fileSystemType(Path path) {
    try {
      return Files.getFileStore(path).type();
    } catch (IOException | RuntimeException e) {
      return "";
    }
  }

  /**
   * Whether direct writes suit a file system of this type (as {@code /proc/mounts} names it).
   * Not on network and FUSE file systems: there a direct write waits for the server, while the
   * page cache lets the kernel keep several writes in flight (a nightly backup to an NFS share is
   * the common case).
   */
  static boolean directSuits(String type) {
    String t = type.toLowerCase(java.util.Locale.ROOT);
    return !(t.startsWith("nfs") || t.startsWith("cifs") || t.startsWith("smb")
        || t.startsWith("fuse") || t.equals("9p") || t.startsWith("ceph")
        || t.startsWith("glusterfs") || t.equals("lustre") || t.equals("gpfs")
        || t.equals("afs") || t.equals("virtiofs"));
  }

  /** The file, or null when not known. */
  public Path path() {
    return path;
  }

  /** True while writes bypass the page cache. */
  public boolean direct() {
    return direct != null;
  }

  /** The ordinary channel: for reading what was written, and for {@link FileChannel#force}. */
  public FileChannel channel() {
    return buffered;
  }

  /** Flushes what was written (direct writes need only the device's cache flushed). */
  public void force(boolean metadata) throws IOException {
    buffered.force(metadata);
  }

  /**
   * Writes the remaining bytes of {@code src} at file offset {@code pos}, and advances its
   * position. A direct buffer aligned to {@link #BLOCK} (see {@link #allocate}) goes to the device
   * without a copy; a heap buffer is staged as by {@link #write(byte[], int, int, long)}; an
   * unaligned direct buffer is written through the page cache.
   */
  public void write(ByteBuffer src, long pos) throws IOException {
    FileChannel d = direct;
    if (d != null && src.isDirect() && pos % BLOCK == 0 && src.remaining() >= BLOCK
        && src.alignmentOffset(src.position(), BLOCK) == 0) {
      int whole = src.remaining() - src.remaining() % BLOCK;
      ByteBuffer blocks = src.slice(src.position(), whole);
      try {
        while (blocks.hasRemaining()) {
          d.write(blocks, pos + blocks.position());
        }
      } catch (IOException e) {
        closeDirect(d); // refused: ordinary writes from here on, as in writeDirect
      }
      src.position(src.position() + blocks.position());
      pos += blocks.position();
    } else if (d != null && src.hasArray()) {
      int n = src.remaining();
      write(src.array(), src.arrayOffset() + src.position(), n, pos);
      src.position(src.position() + n);
      return;
    }
    try {
      while (src.hasRemaining()) {
        pos += buffered.write(src, pos);
      }
    } catch (IOException e) {
      throw new LocalWriteException(path, e);
    }
  }

  /** A direct buffer of {@code size} bytes whose start is aligned for direct writes. */
  public static ByteBuffer allocate(int size) {
    int blocks = (int) ((size + (long) BLOCK - 1) / BLOCK);
    return ByteBuffer.allocateDirect((blocks + 1) * BLOCK).alignedSlice(BLOCK).slice(0, size);
  }

  /** Writes {@code len} bytes of {@code src} from {@code off} at file offset {@code pos}. */
  public void write(byte[] src, int off, int len, long pos) throws IOException {
    int done = 0;
    FileChannel d = direct;
    if (d != null && pos % BLOCK == 0 && len >= BLOCK) {
      done = writeDirect(d, src, off, len - len % BLOCK, pos);
    }
    ByteBuffer rest = ByteBuffer.wrap(src, off + done, len - done);
    long at = pos + done;
    try {
      while (rest.hasRemaining()) {
        at += buffered.write(rest, at);
      }
    } catch (IOException e) {
      throw new LocalWriteException(path, e);
    }
  }

  /** Writes whole blocks directly; returns how many bytes it wrote (0 once direct is off). */
  private int writeDirect(FileChannel d, byte[] src, int off, int len, long pos) {
    ByteBuffer buf = staging.get();
    int done = 0;
    while (done < len) {
      int n = Math.min(buf.capacity(), len - done);
      buf.clear();
      buf.put(src, off + done, n).flip();
      try {
        while (buf.hasRemaining()) {
          d.write(buf, pos + done + buf.position());
        }
      } catch (IOException e) {
        // Refused (alignment this file system does not accept, or a direct write it cannot
        // do): fall back to ordinary writes for the rest of the file, this block included. A
        // real I/O error shows again there.
        closeDirect(d);
        return done;
      }
      done += n;
    }
    return done;
  }

  private synchronized void closeDirect(FileChannel d) {
    if (direct == d) {
      direct = null;
    }
    try {
      d.close();
    } catch (IOException e) {
      // nothing was left unwritten in it
    }
  }

  @Override
  public void close() throws IOException {
    FileChannel d = direct;
    if (d != null) {
      closeDirect(d);
    }
    buffered.close();
  }
}
