package org.diskferry.transfer;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.AccessDeniedException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Local write failures are told apart from network failures, and never retried. */
class LocalWriteFailureTest {

  static final class Retries implements TransferListener {
    final AtomicInteger retries = new AtomicInteger();

    @Override
    public void phase(String phase) {}

    @Override
    public void progress(long done, long total) {}

    @Override
    public void retry(String what, int attempt, Throwable cause) {
      retries.incrementAndGet();
    }

    @Override
    public void info(String message) {}

    @Override
    public void warn(String message) {}
  }

  @Test
  void aLocalWriteFailureIsNotRetriedButANetworkFailureIs() {
    Retries l = new Retries();
    WorkerPool pool =
        new WorkerPool(l, new RetryPolicy(4, 100, Duration.ofMillis(1), Duration.ofMillis(1)));
    AtomicInteger calls = new AtomicInteger();
    Path part = Path.of("/backups/vm.img.part");
    assertThatThrownBy(() -> pool.withRetries("GET bytes 0-1", () -> {
      calls.incrementAndGet();
      throw new LocalWriteException(part, new IOException("No space left on device"));
    })).isInstanceOf(LocalWriteException.class)
        .hasMessage("cannot write /backups/vm.img.part: No space left on device");
    assertThat(calls).hasValue(1);
    assertThat(l.retries).hasValue(0);

    AtomicInteger net = new AtomicInteger();
    assertThatThrownBy(() -> pool.withRetries("GET bytes 0-1", () -> {
      net.incrementAndGet();
      throw new IOException("Connection reset");
    })).isInstanceOf(WorkerPool.RetriesExhausted.class);
    assertThat(net).hasValue(4);
    assertThat(l.retries).hasValue(3);
  }

  @Test
  void theReasonIsWhatTheSystemSaid() {
    assertThat(LocalWriteException.reason(
        new AccessDeniedException("/backups/vm.img.part", null, "Permission denied")))
        .isEqualTo("Permission denied");
    assertThat(new LocalWriteException(Path.of("/x"), new IOException("Read-only file system"))
        .diskFull()).isFalse();
    assertThat(new LocalWriteException(Path.of("/x"), new IOException("Disk quota exceeded"))
        .diskFull()).isTrue();
  }
}
