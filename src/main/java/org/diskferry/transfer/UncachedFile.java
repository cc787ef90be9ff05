package org.diskferry.transfer;

import com.sun.nio.file.ExtendedOpenOption;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
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
 * same file. File systems without O_DIRECT (tmpfs, some network file systems), or that refuse
 * a direct write, get ordinary writes: the first refusal switches direct writing off.
 *
 * <p>{@link #write} must be called from one thread at a time.
 */
public final class UncachedFile implements AutoCloseable {

  /** The alignment of direct writes: offsets, lengths and buffer addresses. */
  public static final int BLOCK = 4096;

  private final FileChannel buffered;
  private FileChannel direct;
  private ByteBuffer staging;

  UncachedFile(FileChannel buffered, FileChannel direct) {
    this.buffered = buffered;
    this.direct = direct;
  }

  /** Opens (creating it if needed) {@code path} for reading and writing. */
  public static UncachedFile open(Path path) throws IOException {
    FileChannel buffered = FileChannel.open(path, StandardOpenOption.CREATE,
        StandardOpenOption.READ, StandardOpenOption.WRITE);
    FileChannel direct;
    try {
      direct = FileChannel.open(path, StandardOpenOption.WRITE, ExtendedOpenOption.DIRECT);
    } catch (IOException | UnsupportedOperationException e) {
      direct = null; // no O_DIRECT on this file system: ordinary writes
    }
    return new UncachedFile(buffered, direct);
  }

  /** True while writes bypass the page cache. */
  public boolean direct() {
    return direct != null;
  }

  /** The ordinary channel: for reading what was written, and for {@link FileChannel#force}. */
  public FileChannel channel() {
    return buffered;
  }

  public long size() throws IOException {
    return buffered.size();
  }

  public void truncate(long size) throws IOException {
    buffered.truncate(size);
  }

  /** Flushes what was written (direct writes need only the device's cache flushed). */
  public void force(boolean metadata) throws IOException {
    buffered.force(metadata);
  }

  /** Writes {@code len} bytes of {@code src} from {@code off} at file offset {@code pos}. */
  public void write(byte[] src, int off, int len, long pos) throws IOException {
    int done = 0;
    if (direct != null && pos % BLOCK == 0 && len >= BLOCK) {
      done = writeDirect(src, off, len - len % BLOCK, pos);
    }
    ByteBuffer rest = ByteBuffer.wrap(src, off + done, len - done);
    long at = pos + done;
    while (rest.hasRemaining()) {
      at += buffered.write(rest, at);
    }
  }

  /** Writes whole blocks directly; returns how many bytes it wrote (0 once direct is off). */
  private int writeDirect(byte[] src, int off, int len, long pos) throws IOException {
    if (staging == null) {
      staging = ByteBuffer.allocateDirect((4 << 20) + BLOCK).alignedSlice(BLOCK);
    }
    int done = 0;
    while (done < len) {
      int n = Math.min(staging.capacity(), len - done);
      staging.clear();
      staging.put(src, off + done, n).flip();
      try {
        while (staging.hasRemaining()) {
          direct.write(staging, pos + done + staging.position());
        }
      } catch (IOException e) {
        // Refused (alignment this file system does not accept, or a direct write it cannot
        // do): fall back to ordinary writes for the rest of the file, this block included. A
        // real I/O error shows again there.
        closeDirect();
        return done;
      }
      done += n;
    }
    return done;
  }

  private void closeDirect() {
    try {
      direct.close();
    } catch (IOException e) {
      // nothing was left unwritten in it
    }
    direct = null;
  }

  @Override
  public void close() throws IOException {
    if (direct != null) {
      closeDirect();
    }
    buffered.close();
  }
}
