package org.diskferry.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class Blake2bTest {
  @TempDir Path dir;

  private static String hex(byte[] b) {
    return HexFormat.of().formatHex(b);
  }

  private static String hash(int size, byte[] data) {
    Blake2b b = new Blake2b(size);
    b.update(data);
    return hex(b.digest());
  }

  @Test
  void rfc7693Abc() {
    // RFC 7693, Appendix A: BLAKE2b-512("abc")
    assertThat(hash(64, "abc".getBytes(StandardCharsets.US_ASCII)))
        .isEqualTo(
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1"
                + "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923");
  }

  @Test
  void emptyInput() {
    assertThat(hash(64, new byte[0]))
        .isEqualTo(
            "786a02f742015903c6c6fd852552d272912f4740e15847618a86e217f71f5419"
                + "d25e1031afee585313896444934eb04b903a685b1448b755d56f701afe9be2ce");
    assertThat(hex(Blake2b.hash256(new byte[0])))
        .isEqualTo("0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8");
  }

  @Test
  void splitUpdatesAndBuffersGiveTheSameDigest() {
    byte[] data = new byte[1000];
    new Random(5).nextBytes(data);
    for (int len : new int[] {0, 1, 127, 128, 129, 255, 256, 257, 1000}) {
      Blake2b whole = new Blake2b(32);
      whole.update(data, 0, len);
      String expected = hex(whole.digest());
      for (int step : new int[] {1, 7, 64, 128, 129}) {
        Blake2b parts = new Blake2b(32);
        for (int off = 0; off < len; off += step) {
          parts.update(data, off, Math.min(step, len - off));
        }
        assertThat(hex(parts.digest())).as("len %d step %d", len, step).isEqualTo(expected);
      }
      Blake2b direct = new Blake2b(32);
      ByteBuffer bb = ByteBuffer.allocateDirect(len).put(data, 0, len).flip();
      direct.update(bb);
      assertThat(bb.hasRemaining()).isFalse();
      assertThat(hex(direct.digest())).isEqualTo(expected);
      direct.reset();
      direct.update(data, 0, len);
      assertThat(hex(direct.digest())).as("after reset").isEqualTo(expected);
    }
    assertThatThrownBy(() -> new Blake2b(0)).isInstanceOf(IllegalArgumentException.class);
    assertThatThrownBy(() -> new Blake2b(65)).isInstanceOf(IllegalArgumentException.class);
  }

  @Test
  void agreesWithPythonHashlib() throws Exception {
    Tools.assumePython();
    byte[] data = new byte[300_001];
    new Random(9).nextBytes(data);
    Path f = Files.write(dir.resolve("data"), data);
    StringBuilder expected = new StringBuilder();
    int[] lens = {0, 1, 111, 128, 129, 256, 4097, 300_001};
    int[] sizes = {32, 64, 20};
    for (int len : lens) {
      for (int size : sizes) {
        byte[] part = java.util.Arrays.copyOf(data, len);
        expected.append(hash(size, part)).append('\n');
      }
    }
    String script =
        "import hashlib,sys\n"
            + "d=open(sys.argv[1],'rb').read()\n"
            + "for n in [" + join(lens) + "]:\n"
            + "  for s in [" + join(sizes) + "]:\n"
            + "    print(hashlib.blake2b(d[:n],digest_size=s).hexdigest())\n";
    assertThat(Tools.run("python3", "-c", script, f.toString())).isEqualTo(expected.toString());
  }

  private static String join(int[] a) {
    StringBuilder s = new StringBuilder();
    for (int x : a) {
      s.append(s.length() == 0 ? "" : ",").append(x);
    }
    return s.toString();
  }
}
