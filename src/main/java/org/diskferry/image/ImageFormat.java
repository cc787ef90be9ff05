package org.diskferry.image;

/** The local image formats diskferry can read. */
public enum ImageFormat {
  /** A plain disk image: the file's bytes are the guest's bytes. */
  RAW,
  /** QEMU copy-on-write v2 (compat=0.10) or v3 (compat=1.1). */
  QCOW2,
  /** An ISO 9660 image (raw, with {@code CD001} at offset 0x8001); read like {@link #RAW}. */
  ISO;

  /** The name oVirt and qemu-img use: {@code raw} or {@code qcow2} (an ISO is raw). */
  public String diskFormat() {
    return this == QCOW2 ? "qcow2" : "raw";
  }
}
