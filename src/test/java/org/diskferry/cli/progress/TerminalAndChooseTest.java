package org.diskferry.cli.progress;

import static org.assertj.core.api.Assertions.assertThat;

import java.net.SocketTimeoutException;
import org.junit.jupiter.api.Test;

class TerminalAndChooseTest {

  static final long MIB = 1L << 20;

  @Test
  void chooseFollowsTheFlags() {
    Capture err = new Capture();
    assertThat(ProgressRenderers.choose(err.stream, true, true, false, true))
        .isInstanceOf(JsonLinesProgress.class);
    assertThat(ProgressRenderers.choose(err.stream, false, true, true, true))
        .isInstanceOf(QuietProgress.class);
    assertThat(ProgressRenderers.choose(err.stream, false, false, false, true))
        .isInstanceOf(TerminalProgress.class);
    assertThat(ProgressRenderers.choose(err.stream, false, false, false, false))
        .isInstanceOf(PlainProgress.class);
    assertThat(err.text()).isEmpty();
  }

  @Test
  void quietModePrintsNoProgressOnlyWarnings() {
    Capture err = new Capture();
    try (ProgressRenderer r = ProgressRenderers.choose(err.stream, false, true, true, false)) {
      r.phase("uploading");
      r.progress(0, 100);
      r.progress(100, 100);
      r.info("info");
      r.retry("PUT", 1, new SocketTimeoutException("timeout"));
      r.warn("careful");
    }
    assertThat(err.lines()).containsExactly("diskferry: warning: careful");
  }

  @Test
  void terminalDrawsABarNamedAfterThePhaseAndClosesCleanly() {
    Capture err = new Capture();
    TerminalProgress t = new TerminalProgress(err.stream, false);
    t.phase("creating disk");
    t.phase("uploading");
    t.progress(0, 64 * MIB);
    t.progress(32 * MIB, 64 * MIB);
    t.warn("slow storage");
    t.progress(64 * MIB, 64 * MIB);
    t.phase("finalizing transfer");
    t.close();
    t.close(); // twice is harmless

    String out = err.text();
    assertThat(out)
        .contains("creating disk...")
        .contains("uploading")
        .contains("100%")
        .contains("64/64MiB")
        .contains("diskferry: warning: slow storage" + System.lineSeparator())
        .contains("finalizing transfer...")
        // the status line is erased at the end, so stdout starts on a clean line
        .endsWith("\r\u001b[K");
  }

  @Test
  void terminalWithoutProgressNeverBuildsABar() {
    Capture err = new Capture();
    try (TerminalProgress t = new TerminalProgress(err.stream, true)) {
      t.phase("waiting for disk");
      t.info("disk is locked");
    }
    assertThat(err.text())
        .isEqualTo(
            "\r\u001b[Kwaiting for disk"
                + System.lineSeparator()
                + "\r\u001b[Kdiskferry: disk is locked"
                + System.lineSeparator());
  }
}
