package org.diskferry.transfer;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;

/**
 * Keeps one transfer's journal up to date: workers report ranges as they finish; a checkpoint makes
 * them durable (a flush on the server for uploads, an fsync of the partial file for downloads) and
 * only then records them, so the journal never claims bytes that a crash could lose.
 */
final class JournalKeeper {
  private final JournalStore store;
  private final WorkerPool.DataCall sync;
  private final TransferListener listener;
  private final List<Range> pending = new ArrayList<>();
  private Journal journal;

  JournalKeeper(
      JournalStore store, Journal journal, WorkerPool.DataCall sync, TransferListener listener) {
    this.store = store;
    this.journal = journal;
    this.sync = sync;
    this.listener = listener;
  }

  synchronized void rangeDone(Range r) {
    pending.add(r);
  }

  /** Makes the finished ranges durable and records them. Safe to call from any thread. */
  void checkpoint() {
    List<Range> batch;
    synchronized (this) {
      if (pending.isEmpty()) {
        return;
      }
      batch = new ArrayList<>(pending);
      pending.clear();
    }
    try {
      sync.run();
    } catch (IOException | RuntimeException e) {
      synchronized (this) {
        pending.addAll(batch);
      }
      throw new IllegalStateException(
          "cannot make the data durable: "
              + (e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName()),
          e);
    }
    synchronized (this) {
      long now = System.currentTimeMillis();
      for (Range r : batch) {
        journal = journal.withDone(r.start(), r.end(), now);
      }
      save();
    }
  }

  /**
   * Moves the journal to the transfer that now carries the data (the session continued in a new
   * transfer after the platform ended its first), so that resume and cancel find it by that id.
   */
  synchronized void moveTo(String transferId) {
    String old = journal.transferId();
    if (old.equals(transferId)) {
      return;
    }
    journal = journal.withTransferId(transferId, System.currentTimeMillis());
    save();
    try {
      store.delete(old);
    } catch (RuntimeException e) {
      listener.warn(e.getMessage());
    }
  }

  synchronized void save() {
    try {
      store.save(journal);
    } catch (IOException e) {
      listener.warn("cannot save the journal in " + store.dir() + ": " + e.getMessage());
    }
  }

  synchronized void delete() {
    store.delete(journal.transferId());
  }
}
