package org.diskferry.transfer;

import java.util.Locale;

/** Which way the bytes move, seen from the platform. */
public enum Direction {
  UPLOAD,
  DOWNLOAD;

  /** The engine's spelling: "upload" or "download". */
  public String wire() {
    return name().toLowerCase(Locale.ROOT);
  }
}
