package org.diskferry.ovirt;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.EnumSet;
import org.junit.jupiter.api.Test;

class TransferPhaseTest {

  @Test
  void everyWireValueParses() {
    String[] wire = {
      "unknown", "initializing", "transferring", "resuming", "paused_system", "paused_user",
      "cancelled", "finalizing_success", "finalizing_failure", "finished_success",
      "finished_failure", "cancelled_system", "cancelled_user", "finalizing_cleanup",
      "finished_cleanup"
    };
    assertThat(wire).hasSize(TransferPhase.values().length);
    for (String w : wire) {
      TransferPhase p = TransferPhase.parse(w);
      assertThat(p.wire()).isEqualTo(w);
      assertThat(TransferPhase.parse(w.toUpperCase())).isSameAs(p);
    }
  }

  @Test
  void unrecognisedValuesAreUnknown() {
    assertThat(TransferPhase.parse("teleporting")).isEqualTo(TransferPhase.UNKNOWN);
    assertThat(TransferPhase.parse("")).isEqualTo(TransferPhase.UNKNOWN);
    assertThat(TransferPhase.parse(null)).isEqualTo(TransferPhase.UNKNOWN);
  }

  @Test
  void predicates() {
    EnumSet<TransferPhase> finished = EnumSet.noneOf(TransferPhase.class);
    EnumSet<TransferPhase> paused = EnumSet.noneOf(TransferPhase.class);
    EnumSet<TransferPhase> cancelled = EnumSet.noneOf(TransferPhase.class);
    for (TransferPhase p : TransferPhase.values()) {
      if (p.isFinished()) {
        finished.add(p);
      }
      if (p.isPaused()) {
        paused.add(p);
      }
      if (p.isCancelled()) {
        cancelled.add(p);
      }
    }
    assertThat(finished)
        .containsExactlyInAnyOrder(TransferPhase.FINISHED_SUCCESS, TransferPhase.FINISHED_FAILURE);
    assertThat(paused)
        .containsExactlyInAnyOrder(TransferPhase.PAUSED_SYSTEM, TransferPhase.PAUSED_USER);
    assertThat(cancelled)
        .containsExactlyInAnyOrder(
            TransferPhase.CANCELLED, TransferPhase.CANCELLED_SYSTEM, TransferPhase.CANCELLED_USER);
  }
}
