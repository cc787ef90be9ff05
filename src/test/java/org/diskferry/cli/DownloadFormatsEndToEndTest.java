package org.diskferry.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.diskferry.cli.SandboxFixture.Result;
import org.diskferry.http.Json;
import org.diskferry.sandbox.FaultHook;
import org.diskferry.transfer.Journal;
import org.diskferry.transfer.JournalStore;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Images made by qemu-img and qemu-io, uploaded to the sandbox and downloaded again as raw and as
 * qcow2, checked with {@code qemu-img check} and {@code qemu-img compare}.
 */
class DownloadFormatsEndToEndTest {

  @TempDir static Path dir;
  static SandboxFixture fx;

  @BeforeAll
  static void start() throws IOException {
    fx = new SandboxFixture(dir);
  }

  @AfterAll
  static void stop() {
    fx.close();
  }

  @AfterEach
  void noFaults() {
    fx.sandbox.setFaultHook(null);
  }

  /** Runs a command, returns its output; skips the test when the program is missing. */
  static String sh(String... cmd) throws IOException, InterruptedException {
    Process p;
    try {
      p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
    } catch (IOException e) {
      assumeTrue(false, cmd[0] + " is not installed");
      return "";
    }
    String out = new String(p.getInputStream().readAllBytes());
    assertThat(p.waitFor(120, TimeUnit.SECONDS)).isTrue();
    assertThat(p.exitValue()).as(String.join(" ", cmd) + "\n" + out).isZero();
    return out;
  }

  static void qemuIo(Path image, String format, String... commands) throws Exception {
    List<String> cmd = new ArrayList<>(List.of("qemu-io", "-f", format));
    for (String c : commands) {
      cmd.add("-c");
      cmd.add(c);
    }
    cmd.add(image.toString());
    sh(cmd.toArray(new String[0]));
  }

  /** Blocks the file system allocated to {@code p}, in bytes. */
  static long allocated(Path p) throws Exception {
    String[] blocks = sh("stat", "-c", "%b %B", p.toString()).strip().split(" ");
    return Long.parseLong(blocks[0]) * Long.parseLong(blocks[1]);
  }

  /** A raw file with random data at these [offset, length] places and holes elsewhere. */
  static Path sparseRaw(Path p, long size, long[]... data) throws IOException {
    Random rnd = new Random(size);
    try (FileChannel ch =
        FileChannel.open(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
      for (long[] d : data) {
        byte[] b = new byte[(int) d[1]];
        rnd.nextBytes(b);
        ch.write(ByteBuffer.wrap(b), d[0]);
      }
    }
    try (RandomAccessFile f = new RandomAccessFile(p.toFile(), "rw")) {
      f.setLength(size);
    }
    return p;
  }

  /** One source image of each kind the issue lists. */
  static Path source(String kind) throws Exception {
    Path p = dir.resolve(kind + (kind.equals("sparse-raw") ? ".raw" : ".qcow2"));
    String[] writes = {
      "write -P 0x5a 7k 3m", "write -P 0x11 9m 64k", "write -z 12m 2m", "write -P 0x22 13m 512",
      "write -P 0x33 30m 1m", "write -P 0x44 47m 1536"
    };
    String size = "48m";
    switch (kind) {
      case "v2":
        sh("qemu-img", "create", "-q", "-f", "qcow2", "-o", "compat=0.10", p.toString(), size);
        qemuIo(p, "qcow2", writes);
        break;
      case "v3-zero-clusters":
        sh("qemu-img", "create", "-q", "-f", "qcow2", "-o", "compat=1.1", p.toString(), size);
        qemuIo(p, "qcow2", writes);
        qemuIo(p, "qcow2", "write -z 30m 512k", "write -z 0 64k");
        break;
      case "2m-clusters":
        sh("qemu-img", "create", "-q", "-f", "qcow2", "-o", "cluster_size=2M", p.toString(), size);
        qemuIo(p, "qcow2", writes);
        break;
      case "extended-l2":
        sh("qemu-img", "create", "-q", "-f", "qcow2", "-o", "extended_l2=on", p.toString(), size);
        qemuIo(p, "qcow2", writes);
        break;
      case "deflate", "zstd": {
        Path raw = dir.resolve(kind + "-src.raw");
        sh("qemu-img", "create", "-q", "-f", "raw", raw.toString(), size);
        qemuIo(raw, "raw", writes);
        sh("qemu-img", "convert", "-c", "-f", "raw", "-O", "qcow2", "-o",
            "compression_type=" + (kind.equals("zstd") ? "zstd" : "zlib"), raw.toString(),
            p.toString());
        break;
      }
      case "sparse-raw":
        sparseRaw(p, (48L << 20) + 3 * 512, new long[] {7_001, 3 << 20},
            new long[] {9_437_183, 65_539}, new long[] {31_457_281, 1 << 20},
            new long[] {(48L << 20) + 1000, 500});
        break;
      default:
        throw new IllegalArgumentException(kind);
    }
    return p;
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"v2", "v3-zero-clusters", "2m-clusters", "extended-l2", "deflate", "zstd",
          "sparse-raw"})
  void roundTripAsRawAndQcow2(String kind) throws Exception {
    Path src = source(kind);
    String fmt = kind.equals("sparse-raw") ? "raw" : "qcow2";
    Result up = fx.run("-o", "json", "upload", src.toString(), "--name", kind, "--verify");
    assertThat(up.exit()).as(up.toString()).isZero();
    JsonNode u = Json.mapper().readTree(up.out());
    String disk = u.get("disk_id").asText();

    Path raw = dir.resolve(kind + "-back.raw");
    Result r1 =
        fx.run("download", disk, raw.toString(), "--workers", "4", "--range-size", "1M");
    assertThat(r1.exit()).as(r1.toString()).isZero();
    sh("qemu-img", "compare", "-f", fmt, "-F", "raw", src.toString(), raw.toString());

    Path qcow = dir.resolve(kind + "-back.qcow2");
    Result r2 =
        fx.run("-o", "json", "download", disk, qcow.toString(), "-f", "qcow2", "--workers", "4",
            "--range-size", "1M", "--buffer-size", "256K", "--verify");
    assertThat(r2.exit()).as(r2.toString()).isZero();
    assertThat(Files.exists(dir.resolve(kind + "-back.qcow2.part"))).isFalse();
    sh("qemu-img", "check", "-f", "qcow2", qcow.toString());
    sh("qemu-img", "compare", "-f", fmt, "-F", "qcow2", src.toString(), qcow.toString());
    assertThat(sh("qemu-img", "info", "--output=json", qcow.toString()))
        .contains("\"compat\": \"1.1\"");
    // the checksum of the guest data in the qcow2 file is the disk's and the source's
    assertThat(Json.mapper().readTree(r2.out()).get("checksum").get("checksum").asText())
        .isEqualTo(u.get("checksum").get("checksum").asText());
    // compact: at most the data the disk holds (upload buffer granularity) plus some metadata
    long dataOnDisk = allocated(raw);
    assertThat(Files.size(qcow)).isLessThanOrEqualTo(dataOnDisk + (1 << 20));
  }

  @Test
  void zeroExtentsAreNeverRequestedAndStayHoles() throws Exception {
    long size = 64L << 20;
    Path src =
        sparseRaw(dir.resolve("holes.raw"), size, new long[] {(1 << 20) + 7, 3 << 20},
            new long[] {(40L << 20) + 123, 1 << 20});
    Result up = fx.run("-o", "json", "upload", src.toString(), "--name", "holes");
    assertThat(up.exit()).as(up.toString()).isZero();
    String disk = Json.mapper().readTree(up.out()).get("disk_id").asText();

    List<String> ranges = new CopyOnWriteArrayList<>();
    fx.sandbox.setFaultHook(
        r -> {
          if (r.dataPlane() && r.method().equals("GET") && !r.path().endsWith("/extents")) {
            ranges.add(String.valueOf(r.headers().get("range")));
          }
          return null;
        });
    for (String format : new String[] {"raw", "qcow2"}) {
      ranges.clear();
      Path out = dir.resolve("holes-back." + format);
      Result down =
          fx.run("download", disk, out.toString(), "-f", format, "--range-size", "1M");
      assertThat(down.exit()).as(down.toString()).isZero();
      sh("qemu-img", "compare", "-f", "raw", "-F", format, src.toString(), out.toString());
      // the upload sent 4 MiB buffers holding data: [0, 8M) and [40M, 44M); nothing else exists
      assertThat(ranges).isNotEmpty();
      for (String range : ranges) {
        String[] se = range.substring("bytes=".length()).split("-");
        long s = Long.parseLong(se[0]);
        long e = Long.parseLong(se[1]) + 1;
        assertThat((e <= 8L << 20) || (s >= 40L << 20 && e <= 44L << 20))
            .as("GET %s", range)
            .isTrue();
      }
      // holes, not zeros: allocated size close to the data (12 MiB at most), not to 64 MiB
      assertThat(allocated(out)).isLessThan(13L << 20);
    }
  }

  static JournalStore journals() {
    return JournalStore.fromEnvironment(fx.env());
  }

  @Test
  void aQcow2DownloadResumesWhereItStoppedOrStartsOverWhenItsFileChanged() throws Exception {
    Path src = SandboxFixture.image(dir.resolve("resume.raw"), 12 << 20, 9, false); // all data
    Result up = fx.run("-o", "json", "upload", src.toString(), "--name", "resume-q");
    assertThat(up.exit()).as(up.toString()).isZero();
    String disk = Json.mapper().readTree(up.out()).get("disk_id").asText();

    for (boolean damage : new boolean[] {false, true}) {
      AtomicInteger gets = new AtomicInteger();
      fx.sandbox.setFaultHook(
          r ->
              r.dataPlane()
                      && r.method().equals("GET")
                      && !r.path().endsWith("/extents")
                      && gets.incrementAndGet() > 12
                  ? FaultHook.Action.resetAfter(0)
                  : null);
      Path out = dir.resolve("resume-" + damage + ".qcow2");
      Result down =
          fx.run("download", disk, out.toString(), "-f", "qcow2", "--workers", "2",
              "--buffer-size", "64K", "--range-size", "256K", "--retries", "1",
              "--retry-delay", "5");
      assertThat(down.exit()).as(down.toString()).isEqualTo(75);
      assertThat(Files.exists(out)).isFalse();
      Path part = dir.resolve(out.getFileName() + ".part");
      assertThat(part).exists();
      Journal j = journals().list().get(0);
      assertThat(j.qcow2()).isTrue();
      assertThat(j.bytesDone()).isPositive().isLessThan(12 << 20);
      if (damage) {
        try (FileChannel ch = FileChannel.open(part, StandardOpenOption.WRITE)) {
          ch.write(ByteBuffer.wrap(new byte[] {9, 9, 9}), 24); // the header's virtual size
        }
      }
      AtomicLong again = new AtomicLong(); // bytes the resume asks for
      fx.sandbox.setFaultHook(
          r -> {
            if (r.dataPlane() && r.method().equals("GET") && !r.path().endsWith("/extents")) {
              String[] se = r.headers().get("range").substring("bytes=".length()).split("-");
              again.addAndGet(Long.parseLong(se[1]) + 1 - Long.parseLong(se[0]));
            }
            return null;
          });
      Result r = fx.run("-o", "json", "resume", j.transferId(), "--retry-delay", "5");
      assertThat(r.exit()).as(r.toString()).isZero();
      if (damage) {
        assertThat(r.err()).contains("downloading again");
        assertThat(again.get()).isEqualTo(12 << 20); // all of it again
      } else {
        assertThat(r.err()).doesNotContain("downloading again");
        assertThat(again.get()).isEqualTo((12 << 20) - j.bytesDone());
      }
      sh("qemu-img", "check", "-f", "qcow2", out.toString());
      sh("qemu-img", "compare", "-f", "raw", "-F", "qcow2", src.toString(), out.toString());
      assertThat(journals().list()).isEmpty();
    }
  }

  @Test
  void anUnknownDownloadFormatIsBadInput() {
    Result r = fx.run("download", "whatever", dir.resolve("x.vmdk").toString(), "-f", "vmdk");
    assertThat(r.exit()).isEqualTo(2);
    assertThat(r.err()).contains(
        "diskferry: error: Invalid value for option '--format': expected one of raw, qcow2 but was"
            + " 'vmdk'");
  }
}
