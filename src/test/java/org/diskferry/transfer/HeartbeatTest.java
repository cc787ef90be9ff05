package org.diskferry.transfer;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class HeartbeatTest {

  /** Counts the keep-alive calls a heartbeat makes. */
  static final class CountingSession implements TransferSession, DataChannel {
    final AtomicInteger extends_ = new AtomicInteger();
    final AtomicInteger keepAlives = new AtomicInteger();

    @Override
    public String transferId() {
      return "t";
    }

    @Override
    public String diskId() {
      return "d";
    }

    @Override
    public long size() {
      return 0;
    }

    @Override
    public int maxConnections() {
      return 1;
    }

    @Override
    public boolean targetReadsAsZeros() {
      return true;
    }

    @Override
    public boolean createdDisk() {
      return false;
    }

    @Override
    public void suspend(TransferListener listener) {}

    @Override
    public boolean recover(TransferListener listener) {
      return false;
    }

    @Override
    public DataChannel data() {
      return this;
    }

    @Override
    public void heartbeat() {
      extends_.incrementAndGet();
    }

    @Override
    public String complete(TransferListener listener) {
      return "finished_success";
    }

    @Override
    public void abort(Throwable cause, TransferListener listener) {}

    @Override
    public void write(long offset, ByteBuffer data) {}

    @Override
    public void zero(long offset, long length) {}

    @Override
    public void flush() {}

    @Override
    public void read(long offset, long length, UncachedFile dst, long dstOffset, ByteBuffer b) {}

    @Override
    public Optional<List<Extent>> extents() {
      return Optional.empty();
    }

    @Override
    public Optional<String> checksum() {
      return Optional.empty();
    }

    @Override
    public void keepAlive() throws IOException {
      keepAlives.incrementAndGet();
    }
  }

  @Test
  void extendsOnItsCadenceWhileTheTransferRuns() throws InterruptedException {
    CountingSession s = new CountingSession();
    AtomicLong progress = new AtomicLong();
    try (Heartbeat h = Heartbeat.start(s, Duration.ofMillis(200), progress, TransferListener.NONE)) {
      for (int i = 0; i < 10; i++) {
        progress.addAndGet(1); // data keeps moving
        Thread.sleep(100);
      }
    }
    int n = s.extends_.get();
    assertThat(n).isBetween(2, 6);
    assertThat(s.keepAlives.get()).isZero();
    Thread.sleep(400);
    assertThat(s.extends_.get()).as("no heartbeat after close").isEqualTo(n);
  }

  @Test
  void closingWaitsForACheckpointInsteadOfInterruptingItsFsync(@TempDir Path dir)
      throws Exception {
    CountingSession s = new CountingSession();
    Path part = dir.resolve("disk.part");
    java.util.concurrent.CountDownLatch syncing = new java.util.concurrent.CountDownLatch(1);
    java.util.concurrent.atomic.AtomicReference<Throwable> failed =
        new java.util.concurrent.atomic.AtomicReference<>();
    java.util.concurrent.atomic.AtomicBoolean synced =
        new java.util.concurrent.atomic.AtomicBoolean();
    try (FileChannel ch =
        FileChannel.open(part, StandardOpenOption.CREATE, StandardOpenOption.WRITE)) {
      ch.write(ByteBuffer.wrap(new byte[] {1, 2, 3}), 0);
      Journal j =
          new Journal(Journal.VERSION, "t", "d", Direction.DOWNLOAD, "https://engine",
              part.toString(), 0, 0, 3, false, false, List.of(), 0);
      JournalKeeper keeper =
          new JournalKeeper(
              new JournalStore(dir.resolve("state")),
              j,
              () -> {
                syncing.countDown();
                // A slow fsync: the heartbeat closes meanwhile.
                java.util.concurrent.locks.LockSupport.parkNanos(400_000_000L);
                try {
                  ch.force(false);
                  synced.set(true);
                } catch (IOException e) {
                  failed.set(e);
                  throw e;
                }
              },
              TransferListener.NONE);
      keeper.rangeDone(new Range(0, 3, false));
      Heartbeat h =
          Heartbeat.start(s, Duration.ofMillis(100), new AtomicLong(), TransferListener.NONE,
              keeper);
      assertThat(syncing.await(Heartbeat.CHECKPOINT.toMillis() + 5000, TimeUnit.MILLISECONDS))
          .isTrue();
      h.close();
      assertThat(failed.get()).as("the checkpoint's fsync was interrupted").isNull();
      assertThat(synced).isTrue();
      assertThat(ch.isOpen()).isTrue();
      ch.write(ByteBuffer.wrap(new byte[] {4}), 3); // the workers' channel still works
    }
  }
}
