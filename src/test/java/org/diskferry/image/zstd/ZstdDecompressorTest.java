package org.diskferry.image.zstd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/** Frames made by the zstd command, decoded and compared with what was compressed. */
class ZstdDecompressorTest {
  @TempDir Path dir;

  @BeforeEach
  void zstd() {
    ZstdCli.assumeZstd();
  }

  static byte[] random(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return b;
  }

  /** Text-like data: words from a small vocabulary with numbers, compressible but not trivial. */
  static byte[] text(int n, long seed) {
    String[] words = {"disk", "image", "cluster", "the", "qcow2", "guest", "offset", "of", "zero",
        "compressed", "a", "frame", "block", "literal", "sequence", "\n", "oVirt", "Glance"};
    Random r = new Random(seed);
    StringBuilder sb = new StringBuilder(n + 32);
    while (sb.length() < n) {
      sb.append(words[(int) Math.abs(r.nextGaussian() * 5) % words.length]);
      sb.append(r.nextInt(10) == 0 ? " " + r.nextInt(100000) + " " : " ");
    }
    return Arrays.copyOf(sb.toString().getBytes(StandardCharsets.US_ASCII), n);
  }

  /** Runs of zeros, text, random bytes and repeated short patterns, like a disk. */
  static byte[] mixed(int n, long seed) {
    Random r = new Random(seed);
    ByteArrayOutputStream out = new ByteArrayOutputStream(n);
    while (out.size() < n) {
      int len = 1 + r.nextInt(40_000);
      switch (r.nextInt(4)) {
        case 0 -> out.writeBytes(new byte[len]);
        case 1 -> out.writeBytes(text(len, r.nextLong()));
        case 2 -> out.writeBytes(random(len, r.nextLong()));
        default -> {
          byte[] pat = random(1 + r.nextInt(7), r.nextLong());
          for (int i = 0; i < len; i++) {
            out.write(pat[i % pat.length]);
          }
        }
      }
    }
    return Arrays.copyOf(out.toByteArray(), n);
  }

  static Stream<Arguments> inputs() {
    return Stream.of(
        Arguments.of("empty", new byte[0]),
        Arguments.of("one byte", new byte[] {42}),
        Arguments.of("tiny text", "hello, hello, hello!".getBytes(StandardCharsets.US_ASCII)),
        Arguments.of("random 1000", random(1000, 1)),
        Arguments.of("text 5000", text(5000, 2)),
        Arguments.of("zeros 64 KiB", new byte[65536]),
        Arguments.of("random 300 KiB", random(300 << 10, 3)),
        Arguments.of("text 300 KiB", text(300 << 10, 4)),
        Arguments.of("mixed 2 MiB", mixed(2 << 20, 5)),
        Arguments.of("zeros 3 MiB", new byte[3 << 20]));
  }

  private void roundTrip(byte[] data, String... args) throws Exception {
    byte[] z = ZstdCli.compress(dir, data, args);
    byte[] out = new byte[data.length + 100];
    int n = ZstdDecompressor.decompress(z, 0, z.length, out, 0, out.length);
    assertThat(n).as("size with %s", Arrays.toString(args)).isEqualTo(data.length);
    assertThat(Arrays.mismatch(data, Arrays.copyOf(out, n)))
        .as("first wrong byte with %s", Arrays.toString(args)).isEqualTo(-1);
    // the exact size, as for a qcow2 cluster
    byte[] exact = new byte[data.length];
    ZstdDecompressor.decompressExactly(z, 0, z.length, exact, 0, exact.length);
    assertThat(exact).isEqualTo(data);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("inputs")
  void levels(String name, byte[] data) throws Exception {
    roundTrip(data, "-1");
    roundTrip(data, "-3", "--no-check");
    roundTrip(data, "-19");
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("inputs")
  void ultra(String name, byte[] data) throws Exception {
    if (data.length <= (300 << 10)) {
      roundTrip(data, "--ultra", "-22");
    }
  }

  @Test
  void negativeLevelsAndLongWindow() throws Exception {
    byte[] data = mixed(3 << 20, 6);
    roundTrip(data, "--fast=5");
    roundTrip(data, "-3", "--long=24");
    roundTrip(data, "-9", "--no-check", "--format=zstd");
  }

  @Test
  void streamedWithoutContentSize() throws Exception {
    byte[] data = text(400 << 10, 7);
    roundTrip(data, "-5", "--no-content-size");
  }

  @Test
  void manySmallBlocks() throws Exception {
    // --target-compressed-block-size makes many small compressed blocks: repeat tables and
    // treeless literals across blocks
    byte[] data = text(600 << 10, 8);
    try {
      roundTrip(data, "-6", "--target-compressed-block-size=1340");
    } catch (java.io.IOException e) {
      if (!e.getMessage().contains("zstd failed")) {
        throw e;
      }
      // older zstd without the option
    }
  }

  @Test
  void concatenatedAndSkippableFrames() throws Exception {
    byte[] a = text(70_000, 9);
    byte[] b = random(5000, 10);
    byte[] za = ZstdCli.compress(dir, a, "-3");
    byte[] zb = ZstdCli.compress(dir, b, "-1");
    byte[] skip = {0x5a, 0x2a, 0x4d, 0x18, 3, 0, 0, 0, 1, 2, 3};
    ByteArrayOutputStream z = new ByteArrayOutputStream();
    z.writeBytes(za);
    z.writeBytes(skip);
    z.writeBytes(zb);
    byte[] zz = z.toByteArray();
    byte[] out = new byte[a.length + b.length];
    assertThat(ZstdDecompressor.decompress(zz, 0, zz.length, out, 0, out.length))
        .isEqualTo(out.length);
    assertThat(Arrays.copyOf(out, a.length)).isEqualTo(a);
    assertThat(Arrays.copyOfRange(out, a.length, out.length)).isEqualTo(b);

    // like a qcow2 cluster: the output is filled, padding after the last frame is ignored
    byte[] padded = Arrays.copyOf(zz, zz.length + 300);
    byte[] cluster = new byte[out.length];
    ZstdDecompressor.decompressExactly(padded, 0, padded.length, cluster, 0, cluster.length);
    assertThat(cluster).isEqualTo(out);
    // but decompress() wants whole frames only
    assertThatThrownBy(() -> ZstdDecompressor.decompress(padded, 0, padded.length,
        new byte[out.length], 0, out.length)).isInstanceOf(ZstdException.class);
  }

  @Test
  void outputTooSmallOrInputTooShort() throws Exception {
    byte[] data = text(100_000, 11);
    byte[] z = ZstdCli.compress(dir, data, "-3", "--no-content-size");
    assertThatThrownBy(() -> ZstdDecompressor.decompress(z, 0, z.length, new byte[99_999], 0,
        99_999)).isInstanceOf(ZstdException.class).hasMessageContaining("more than");
    assertThatThrownBy(() -> ZstdDecompressor.decompressExactly(z, 0, z.length,
        new byte[100_001], 0, 100_001)).isInstanceOf(ZstdException.class);
    for (int cut : new int[] {3, 5, z.length / 2, z.length - 1}) {
      assertThatThrownBy(() -> ZstdDecompressor.decompress(z, 0, cut, new byte[100_000], 0,
          100_000)).as("cut at %d", cut).isInstanceOf(ZstdException.class);
    }
  }

  @Test
  void checksumIsVerified() throws Exception {
    byte[] data = text(50_000, 12);
    byte[] z = ZstdCli.compress(dir, data, "-3", "--check");
    z[z.length - 2] ^= 1;
    assertThatThrownBy(() -> ZstdDecompressor.decompress(z, 0, z.length, new byte[50_000], 0,
        50_000)).isInstanceOf(ZstdException.class).hasMessageContaining("checksum");
  }

  @Test
  void dictionaryFramesAreRefused() {
    // frame header descriptor 0x01: a 1-byte dictionary id follows the window descriptor
    byte[] z = {0x28, (byte) 0xb5, 0x2f, (byte) 0xfd, 0x01, 0x00, 0x07, 0x01, 0x00, 0x00};
    assertThatThrownBy(() -> ZstdDecompressor.decompress(z, 0, z.length, new byte[10], 0, 10))
        .isInstanceOf(ZstdException.class).hasMessageContaining("dictionary");
  }

  /** Flipped bits and bytes, cuts and garbage: an exception of the right kind or some output. */
  @Test
  void corruptInputNeverCrashes() throws Exception {
    Random r = new Random(13);
    byte[][] samples = {
      ZstdCli.compress(dir, text(200_000, 14), "-19", "--no-check"),
      ZstdCli.compress(dir, mixed(150_000, 15), "-3", "--no-check"),
      ZstdCli.compress(dir, text(3000, 16), "-1", "--no-check"),
    };
    byte[] out = new byte[300_000];
    int errors = 0;
    for (byte[] good : samples) {
      for (int i = 0; i < 700; i++) {
        byte[] bad = good.clone();
        int flips = 1 + r.nextInt(4);
        for (int k = 0; k < flips; k++) {
          int at = 4 + r.nextInt(bad.length - 4);
          if (r.nextBoolean()) {
            bad[at] ^= (byte) (1 << r.nextInt(8));
          } else {
            bad[at] = (byte) r.nextInt(256);
          }
        }
        int len = r.nextInt(5) == 0 ? r.nextInt(bad.length) : bad.length;
        try {
          ZstdDecompressor.decompress(bad, 0, len, out, 0, out.length);
        } catch (ZstdException e) {
          assertThat(e.getMessage()).isNotBlank();
          errors++;
        }
      }
    }
    assertThat(errors).isGreaterThan(1000);
  }
}
