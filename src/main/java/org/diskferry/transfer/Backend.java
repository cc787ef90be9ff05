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

  @Override
  void close();
}
