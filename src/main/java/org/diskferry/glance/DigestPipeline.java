package org.diskferry.glance;

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
 * side) while the caller moves the same buffers over the network or to disk. Buffers come from a
 * small ring: {@link #next()} hands out one whose earlier hashing is finished, so memory stays at
 * {@code slots * bufferSize} whatever the image size. Not thread-safe: one producer.
 */
final class DigestPipeline implements AutoCloseable {

  private final List<MessageDigest> digests;
  private final List<ExecutorService> threads = new ArrayList<>();
  private final byte[][] ring;
  private final List<List<Future<?>>> pending = new ArrayList<>();
  private int slot = -1;

  DigestPipeline(List<MessageDigest> digests, int slots, int bufferSize) {
    this.digests = digests;
    this.ring = new byte[slots][bufferSize];
    for (int i = 0; i < slots; i++) {
      pending.add(new ArrayList<>());
    }
    for (int i = 0; i < digests.size(); i++) {
      threads.add(Executors.newSingleThreadExecutor(r -> {
        Thread t = new Thread(r, "diskferry-digest");
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
    byte[] buf = ring[slot];
    List<Future<?>> p = pending.get(slot);
    for (int i = 0; i < digests.size(); i++) {
      MessageDigest d = digests.get(i);
      p.add(threads.get(i).submit(() -> d.update(buf, 0, n)));
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
