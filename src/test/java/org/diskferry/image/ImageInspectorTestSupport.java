package org.diskferry.image;

import java.io.IOException;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;

final class ImageInspectorTestSupport {
  private ImageInspectorTestSupport() {}

  static Qcow2Header header(Path p) throws IOException {
    try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
      return Qcow2Header.read(ch);
    }
  }
}
