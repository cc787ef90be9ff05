package org.diskferry.glance;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Hashes a stream of buffers on background threads (one per digest, so md5 and sha512 run side by
 * side) while the caller moves the same buffers over the network, and optionally hands each buffer,
 * in order, to a {@link Writer} on a thread of its own (a download writes to disk there while the
 * next buffer arrives). Buffers come from a small ring: {@link #next()} hands out one whose earlier
 * work is finished, so memory stays at {@code slots * bufferSize} whatever the image size. Not
 * thread-safe: one producer.
 */
final class DigestPipeline implements AutoCloseable {

  /** Work on each buffer besides hashing: runs in submission order, one buffer at a time. */
  interface Writer {
    void write(byte[] buf, int n, long pos) throws IOException;
  }

  private final List<MessageDigest> digests;
  private final Writer writer;
  private final List<ExecutorService> threads = new ArrayList<>();
  private final byte[][] ring;
  private final List<List<Future<?>>> pending = new ArrayList<>();
  private int slot = -1;

  DigestPipeline(List<MessageDigest> digests, int slots, int bufferSize) {
    this(digests, null, slots, bufferSize);
  }

  DigestPipeline(List<MessageDigest> digests, Writer writer, int slots, int bufferSize) {
    this.digests = digests;
    this.writer = writer;
    this.ring = new byte[slots][bufferSize];
    for (int i = 0; i < slots; i++) {
      pending.add(new ArrayList<>());
    }
    for (int i = 0; i < digests.size() + (writer == null ? 0 : 1); i++) {
      String name = i < digests.size() ? "diskferry-digest" : "diskferry-write";
      threads.add(Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
      }));
    }
  }

  /** The next free buffer, after its previous contents were hashed. */
  byte[] next() {
    slot = (slot + 1) % ring.length;
    await(pending.get(slot));
    return ring[slot];
  }

  /** Hashes the first {@code n} bytes of the buffer last returned by {@link #next()}. */
  void submit(int n) {
    submit(n, -1);
  }

  /**
   * Hashes the first {@code n} bytes of the buffer last returned by {@link #next()} and hands them
   * to the writer with {@code pos}.
   */
  void submit(int n, long pos) {
    byte[] buf = ring[slot];
    List<Future<?>> p = pending.get(slot);
    for (int i = 0; i < digests.size(); i++) {
      MessageDigest d = digests.get(i);
      p.add(threads.get(i).submit(() -> d.update(buf, 0, n)));
    }
    if (writer != null) {
      p.add(threads.get(digests.size()).submit(() -> {
        try {
          writer.write(buf, n, pos);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }));
    }
  }

  /**
   * Waits until every buffer submitted so far was hashed and written.
   *
   * @throws IOException the writer's first failure
   */
  void drain() throws IOException {
    try {
      for (List<Future<?>> p : pending) {
        await(p);
      }
    } catch (UncheckedIOException e) {
      throw e.getCause();
    }
  }

  /** Waits for all hashing, then returns the hex digests in the order given. */
  List<String> finish() {
    for (List<Future<?>> p : pending) {
      await(p);
    }
    List<String> out = new ArrayList<>();
    for (MessageDigest d : digests) {
      out.add(HexFormat.of().formatHex(d.digest()));
    }
    return out;
  }

  private static void await(List<Future<?>> futures) {
    for (Future<?> f : futures) {
      try {
        f.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while hashing", e);
      } catch (ExecutionException e) {
        if (e.getCause() instanceof UncheckedIOException u) {
          futures.clear();
          throw u;
        }
        if (e.getCause() instanceof org.diskferry.error.DiskferryException d) {
          futures.clear();
          throw d; // the writer's local failure (LocalWriteException), as it was thrown
        }
        throw new IllegalStateException("hashing failed", e.getCause());
      }
    }
    futures.clear();
  }

  @Override
  public void close() {
    for (ExecutorService t : threads) {
      t.shutdownNow();
    }
  }
}
