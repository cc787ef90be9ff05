package org.diskferry.transfer;

import java.nio.file.Files;
import java.nio.file.Path;
import org.diskferry.error.DiskferryException;

/** Checks of the local side of a transfer, made before anything is created on the server. */
public final class LocalImage {

  private LocalImage() {}

  /**
   * Refuses {@code -}, which many tools read as stdin or stdout: diskferry reads and writes images
   * at random offsets, which a pipe cannot do, and must not quietly make a file named {@code -}.
   * {@code ./-} still names such a file.
   */
  public static void checkNotStdio(Path file, boolean upload) {
    if (file != null && file.toString().equals("-")) {
      throw DiskferryException.badInput(
          (upload ? "reading the image from stdin" : "writing the image to stdout")
              + " is not supported: diskferry moves disk data at random offsets, which a pipe"
              + " cannot do; give a file name (./- for a file named -)");
    }
  }

  public static void checkTarget(Path target, boolean force) {
    if (Files.isDirectory(target)) {
      throw DiskferryException.badInput(target + " is a directory; give a file name");
    }
    if (Files.exists(target) && !force) {
      throw DiskferryException.badInput(target + " already exists; use --force to overwrite it");
    }
    Path dir = target.getParent();
    if (dir != null && !Files.isDirectory(dir)) {
      throw DiskferryException.badInput(dir + ": no such directory");
    }
    if (dir != null && !Files.isWritable(dir)) {
      throw DiskferryException.badInput(dir + ": permission denied");
    }
  }

  /**
   * Refuses, before anything exists on the server, a download into a local format that cannot
   * hold a disk of this size: qemu counts a qcow2's size in 512-byte sectors and would cut off the
   * end of any other size.
   */
  public static void checkFormatFits(String format, long size, String disk) {
    if ("qcow2".equals(format) && size % 512 != 0) {
      throw DiskferryException.badInput(
          "disk " + disk + " has " + size + " bytes, not a multiple of 512, which a qcow2 file"
              + " cannot hold exactly; download it as raw (-f raw)");
    }
  }
}
