import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Random;
import org.diskferry.image.ImageReader;
import org.diskferry.image.ImageReaders;

/**
 * Read throughput of diskferry's image readers, for bench/zstd.sh.
 *
 * <p>{@code gen FILE MIB}: writes a raw image of mixed data (text-like, random, zeros, short
 * patterns). {@code read ROUNDS IMAGE...}: reads each image through diskferry's reader in 4 MiB
 * chunks, rounds interleaved, and prints the median guest MiB/s of each.
 */
public final class Qcow2ReadBench {
  public static void main(String[] args) throws Exception {
    if (args[0].equals("gen")) {
      gen(Path.of(args[1]), Integer.parseInt(args[2]));
      return;
    }
    int rounds = Integer.parseInt(args[1]);
    int n = args.length - 2;
    double[][] mibs = new double[n][rounds];
    for (int i = 0; i < n; i++) {
      read(Path.of(args[2 + i])); // warm up
    }
    for (int r = 0; r < rounds; r++) {
      for (int i = 0; i < n; i++) {
        mibs[i][r] = read(Path.of(args[2 + i]));
      }
    }
    for (int i = 0; i < n; i++) {
      Arrays.sort(mibs[i]);
      System.out.printf("%-40s %8.0f MiB/s (median of %d)%n", Path.of(args[2 + i]).getFileName(),
          mibs[i][rounds / 2], rounds);
    }
  }

  private static double read(Path p) throws Exception {
    ByteBuffer b = ByteBuffer.allocate(4 << 20);
    long t0 = System.nanoTime();
    long total = 0;
    try (ImageReader r = ImageReaders.open(p)) {
      for (long off = 0; off < r.size(); off += b.capacity()) {
        b.clear();
        total += r.read(off, b);
      }
    }
    return total / 1048576.0 / ((System.nanoTime() - t0) / 1e9);
  }

  private static void gen(Path file, int mib) throws Exception {
    Random r = new Random(1);
    byte[] data = new byte[mib << 20];
    String[] words = {"disk", "image", "cluster", "the", "qcow2", "guest", "offset", "of", "zero",
        "compressed", "a", "frame", "block", "library", "sequence", "\n", "oVirt", "Glance"};
    for (int off = 0; off < data.length; ) {
      int len = Math.min(data.length - off, 4096 * (1 + r.nextInt(64)));
      switch (r.nextInt(8)) {
        case 0, 1, 2, 3 -> {
          StringBuilder t = new StringBuilder(len + 32);
          while (t.length() < len) {
            t.append(words[(int) Math.abs(r.nextGaussian() * 5) % words.length])
                .append(r.nextInt(8) == 0 ? " " + r.nextInt(1 << 20) + " " : " ");
          }
          System.arraycopy(t.toString().getBytes(StandardCharsets.US_ASCII), 0, data, off, len);
        }
        case 4 -> {
          byte[] rnd = new byte[len];
          r.nextBytes(rnd);
          System.arraycopy(rnd, 0, data, off, len);
        }
        case 5 -> {
          for (int i = 0; i < len; i += 4) {
            data[off + i] = (byte) (i >>> 10); // sparse structured data, like tables
          }
        }
        default -> { } // zeros
      }
      off += len;
    }
    Files.write(file, data);
  }
}
