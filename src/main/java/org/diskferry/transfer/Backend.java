package org.diskferry.transfer;

/** A platform that disks can move to and from (oVirt today). */
public interface Backend extends AutoCloseable {

  /**
   * Creates (or checks) the target disk and opens an upload session on it.
   *
   * @param imageSize the guest-visible size of the image to upload
   */
  TransferSession openUpload(TransferRequest request, long imageSize, TransferListener listener);

  /** Finds the disk and opens a download session on it. */
  TransferSession openDownload(TransferRequest request, TransferListener listener);

  /**
   * Opens a session to continue the journal's transfer: the same transfer if it can still move
   * data (resumed when paused), else a new one on the same disk. Returns null when the transfer
   * already finished successfully.
   */
  TransferSession reopen(Journal journal, TransferRequest request, TransferListener listener);

  /** Which server this backend talks to, as recorded in journals (e.g. the engine URL). */
  String endpoint();

  @Override
  void close();
}
