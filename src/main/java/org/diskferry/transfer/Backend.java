package org.diskferry.transfer;

import java.util.function.Consumer;

/** A platform that disks can move to and from (oVirt today). */
public interface Backend extends AutoCloseable {

  /**
   * Creates (or checks) the target disk and opens an upload session on it.
   *
   * @param sizing what a new disk needs to be for the image: its guest-visible size, and the
   *     initial size and content type where the platform can use them
   * @param diskCreated called with the id of a disk the backend created for this upload, before
   *     it waits for the disk: a journal then records the disk even if the process dies before a
   *     transfer exists; if it throws, the disk is removed again
   * @param created called as soon as the platform has created the transfer, before it is ready,
   *     so that a journal exists even if the process dies while waiting for it
   */
  TransferSession openUpload(
      TransferRequest request,
      ImageSizing sizing,
      TransferListener listener,
      Consumer<String> diskCreated,
      Consumer<TransferSession> created);

  /** Finds the disk and opens a download session on it; {@code created} as for uploads. */
  TransferSession openDownload(
      TransferRequest request, TransferListener listener, Consumer<TransferSession> created);

  /**
   * Opens a session to continue the journal's transfer: the same transfer if it can still move
   * data (resumed when paused), else a new one on the same disk. Returns null when an upload
   * already finished successfully (a finished download says nothing about the local file).
   */
  TransferSession reopen(
      Journal journal,
      TransferRequest request,
      TransferListener listener,
      Consumer<TransferSession> created);

  /** Which server this backend talks to, as recorded in journals (e.g. the engine URL). */
  String endpoint();

  @Override
  void close();
}
