package org.diskferry.cli.progress;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.net.SocketTimeoutException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

class PlainProgressTest {

  static final long GIB = 1L << 30;
  static final long MIB = 1L << 20;

  final Capture err = new Capture();
  final FakeClock clock = new FakeClock();

  PlainProgress plain(boolean verbose) {
    return new PlainProgress(err.stream, verbose, Duration.ofSeconds(10), clock);
  }

  @Test
  void phaseLinesAndThrottledProgress() {
    PlainProgress p = plain(false);
    p.phase("creating disk");
    p.phase("uploading");
    p.progress(0, 4 * GIB);
    for (int i = 1; i <= 25; i++) {
      clock.advanceSeconds(1);
      p.progress(i * 100 * MIB, 4 * GIB); // 100 MiB/s
    }
    p.phase("finalizing transfer");

    assertThat(err.lines())
        .containsExactly(
            "creating disk",
            "uploading",
            "uploading: 1000.00 MiB / 4.00 GiB (24%), 100.0 MiB/s, ETA 0:31",
            "uploading: 1.95 GiB / 4.00 GiB (48%), 100.0 MiB/s, ETA 0:21",
            "finalizing transfer");
  }

  @Test
  void atMostOneLinePerIntervalWithManyCalls() {
    PlainProgress p = plain(false);
    p.phase("downloading");
    long done = 0;
    for (int i = 0; i < 1000; i++) { // 100 s in steps of 0.1 s
      clock.advanceSeconds(0.1);
      done += MIB;
      p.progress(done, 100 * GIB);
    }
    // The first call (at 0.1 s) starts the count; lines follow at 10.1 s, 20.1 s, ... 90.1 s.
    List<String> progressLines = new ArrayList<>(err.lines());
    progressLines.remove("downloading");
    assertThat(progressLines).hasSize(9).allMatch(l -> l.startsWith("downloading: "));
  }

  @Test
  void completionLineEvenWhenSoonerThanTheInterval() {
    PlainProgress p = plain(false);
    p.phase("uploading");
    p.progress(0, 512 * MIB);
    clock.advanceSeconds(2);
    p.progress(256 * MIB, 512 * MIB);
    clock.advanceSeconds(2);
    p.progress(512 * MIB, 512 * MIB);
    p.progress(512 * MIB, 512 * MIB); // repeated: no second completion line

    assertThat(err.lines())
        .containsExactly(
            "uploading", "uploading: 512.00 MiB / 512.00 MiB (100%), 128.0 MiB/s, done in 0:04");
  }

  @Test
  void resumedTransferMeasuresRateFromWhereItStarted() {
    PlainProgress p = plain(false);
    p.phase("uploading");
    p.progress(3 * GIB, 4 * GIB);
    clock.advanceSeconds(10);
    p.progress(3 * GIB + 500 * MIB, 4 * GIB);

    assertThat(err.lines())
        .last()
        .isEqualTo("uploading: 3.49 GiB / 4.00 GiB (87%), 50.0 MiB/s, ETA 0:10");
  }

  @Test
  void outOfOrderProgressIsIgnored() {
    PlainProgress p = plain(false);
    p.phase("uploading");
    p.progress(0, 4 * GIB);
    clock.advanceSeconds(5);
    p.progress(2 * GIB, 4 * GIB);
    clock.advanceSeconds(5);
    p.progress(GIB, 4 * GIB); // a slower worker reporting late

    assertThat(err.lines()).containsExactly("uploading");
  }

  @Test
  void unknownSizeShowsBytesAndRate() {
    PlainProgress p = plain(false);
    p.progress(0, 0);
    clock.advanceSeconds(10);
    p.progress(10 * MIB, 0);

    assertThat(err.lines()).containsExactly("transferring: 10.00 MiB, 1.0 MiB/s");
  }

  @Test
  void warningsAlwaysInfoOnlyWhenVerbose() {
    PlainProgress quietish = plain(false);
    quietish.info("engine 4.5.7");
    quietish.warn("TLS verification is off\n(--insecure)");
    quietish.retry("PUT range 0-1023", 2, new SocketTimeoutException("timeout"));
    assertThat(err.lines())
        .containsExactly(
            "diskferry: warning: TLS verification is off (--insecure)",
            "diskferry: retrying PUT range 0-1023 (attempt 2): SocketTimeoutException: timeout");

    Capture err2 = new Capture();
    new PlainProgress(err2.stream, true).info("engine 4.5.7");
    assertThat(err2.lines()).containsExactly("diskferry: engine 4.5.7");
  }

  @Test
  void retryCausesDoNotLeakTransferUrls() {
    PlainProgress p = plain(false);
    p.retry(
        "PUT",
        1,
        new IOException("unexpected end of stream on https://host:54322/images/SECRET-TICKET?x=1"));

    assertThat(err.text()).doesNotContain("SECRET-TICKET").contains("https://host:54322/...");
  }

  @Test
  void threadSafeUnderConcurrentProgress() throws InterruptedException {
    PlainProgress p = new PlainProgress(err.stream, false, Duration.ZERO, System::nanoTime);
    p.phase("uploading");
    ExecutorService pool = Executors.newFixedThreadPool(4);
    for (int t = 0; t < 4; t++) {
      pool.submit(
          () -> {
            for (int i = 0; i < 2000; i++) {
              p.progress(i * MIB, 4 * GIB);
              p.warn("w");
            }
          });
    }
    pool.shutdown();
    assertThat(pool.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
    p.close();

    assertThat(err.lines())
        .allMatch(
            l ->
                l.equals("uploading")
                    || l.equals("diskferry: warning: w")
                    || l.matches("uploading: [0-9.]+ [KMG]?i?B / 4.00 GiB \\([0-9]+%\\), .*"));
  }
}
