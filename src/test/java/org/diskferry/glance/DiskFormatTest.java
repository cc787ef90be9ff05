package org.diskferry.glance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.diskferry.error.DiskferryException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The Glance disk_format of local files, found by their magic numbers. */
class DiskFormatTest {

  @TempDir Path dir;

  Path file(String name, int size, int at, byte[] magic) throws Exception {
    ByteBuffer b = ByteBuffer.allocate(size);
    b.put(at, magic);
    return Files.write(dir.resolve(name), b.array());
  }

  static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.ISO_8859_1);
  }

  @Test
  void formatsGlanceTakes() throws Exception {
    assertThat(GlanceUpload.detectDiskFormat(file("a", 4096, 0, new byte[] {1, 2, 3})))
        .isEqualTo("raw");
    assertThat(GlanceUpload.detectDiskFormat(file("b", 4096, 0, ascii("QFI\u00fb\0\0\0\3"))))
        .isEqualTo("qcow2");
    assertThat(GlanceUpload.detectDiskFormat(file("c", 0x9000, 0x8001, ascii("CD001"))))
        .isEqualTo("iso");
    assertThat(GlanceUpload.detectDiskFormat(file("d", 4096, 0, ascii("KDMV"))))
        .isEqualTo("vmdk");
    assertThat(GlanceUpload.detectDiskFormat(file("e", 4096, 0, ascii("vhdxfile"))))
        .isEqualTo("vhdx");
    assertThat(GlanceUpload.detectDiskFormat(file("f", 4096, 4096 - 512, ascii("conectix"))))
        .isEqualTo("vhd");
    assertThat(GlanceUpload.detectDiskFormat(file("g", 4096, 0, ascii("WithoutFreeSpace"))))
        .isEqualTo("ploop");
    byte[] vdi = new byte[4096];
    ByteBuffer.wrap(vdi).putInt(0x40, 0x7f10dabe);
    assertThat(GlanceUpload.detectDiskFormat(Files.write(dir.resolve("h"), vdi)))
        .isEqualTo("vdi");
  }

  @Test
  void formatsGlanceRefusesAreBadInput() throws Exception {
    Path gz = file("x.gz", 4096, 0, new byte[] {0x1f, (byte) 0x8b, 8, 0});
    assertThatThrownBy(() -> GlanceUpload.detectDiskFormat(gz))
        .isInstanceOfSatisfying(DiskferryException.class, e -> {
          assertThat(e.kind()).isEqualTo(DiskferryException.Kind.BAD_INPUT);
          assertThat(e.getMessage()).contains("compressed with gzip");
        });
    Path qed = file("y.qed", 4096, 0, ascii("QED\0"));
    assertThatThrownBy(() -> GlanceUpload.detectDiskFormat(qed))
        .isInstanceOfSatisfying(DiskferryException.class, e ->
            assertThat(e.getMessage()).contains("qed image, which Glance does not accept"));
    assertThatThrownBy(() -> GlanceUpload.detectDiskFormat(dir.resolve("missing")))
        .isInstanceOfSatisfying(DiskferryException.class, e ->
            assertThat(e.getMessage()).endsWith(": no such file"));
  }
}
