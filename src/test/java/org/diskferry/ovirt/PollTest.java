package org.diskferry.ovirt;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicInteger;
import org.diskferry.error.DiskferryException;
import org.junit.jupiter.api.Test;

class PollTest {

  @Test
  void returnsTheFirstPresentValueAndBacksOff() {
    AtomicInteger calls = new AtomicInteger();
    long start = System.nanoTime();
    String v = Poll.until(Duration.ofSeconds(10), "x",
        () -> calls.incrementAndGet() == 3 ? Optional.of("done") : Optional.empty());
    long ms = (System.nanoTime() - start) / 1_000_000;
    assertThat(v).isEqualTo("done");
    assertThat(calls).hasValue(3);
    // 0.2 s + 0.3 s of sleeps
    assertThat(ms).isBetween(450L, 3000L);
  }

  @Test
  void timesOutWithAMessageNamingTheWait() {
    assertThatThrownBy(() -> Poll.until(Duration.ofMillis(300), "transfer t1 to finish",
            Optional::empty))
        .isInstanceOfSatisfying(DiskferryException.class, e -> {
          assertThat(e.kind()).isEqualTo(DiskferryException.Kind.FAILED);
          assertThat(e.getMessage()).isEqualTo("timed out after 0.3s waiting for transfer t1 to finish");
        });
    assertThat(Poll.seconds(Duration.ofSeconds(60))).isEqualTo("60s");
  }

  @Test
  void honoursInterruption() {
    Thread.currentThread().interrupt();
    try {
      assertThatThrownBy(() -> Poll.until(Duration.ofSeconds(60), "y", Optional::empty))
          .isInstanceOfSatisfying(DiskferryException.class, e -> {
            assertThat(e.kind()).isEqualTo(DiskferryException.Kind.TRANSIENT);
            assertThat(e.getMessage()).isEqualTo("interrupted while waiting for y");
          });
      assertThat(Thread.currentThread().isInterrupted()).isTrue();
    } finally {
      Thread.interrupted();
    }
  }

  @Test
  void interruptionDuringSleepStopsTheWait() throws Exception {
    Thread waiter = Thread.currentThread();
    Thread t = new Thread(() -> {
      try {
        Thread.sleep(300);
      } catch (InterruptedException e) {
        return;
      }
      waiter.interrupt();
    });
    t.start();
    long start = System.nanoTime();
    try {
      assertThatThrownBy(() -> Poll.until(Duration.ofSeconds(60), "z", Optional::empty))
          .isInstanceOf(DiskferryException.class)
          .hasCauseInstanceOf(InterruptedException.class);
      assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(10));
    } finally {
      // Clear the flag the wait restored first: joining with it set throws while t is still
      // finishing, which made this test fail now and then.
      Thread.interrupted();
      t.join();
    }
  }
}
