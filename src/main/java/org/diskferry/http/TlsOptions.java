package org.diskferry.http;

import java.nio.file.Path;

/**
 * How to trust the servers diskferry talks to.
 *
 * @param caFile a PEM bundle of trusted CAs, or null for the system trust store
 * @param insecure skip certificate and host name verification entirely
 */
public record TlsOptions(Path caFile, boolean insecure) {

  /** The system trust store, verification on. */
  public static TlsOptions system() {
    return new TlsOptions(null, false);
  }

  public static TlsOptions caFile(Path caFile) {
    return new TlsOptions(caFile, false);
  }
}
