package org.diskferry.sandbox;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import okhttp3.MediaType;
import okhttp3.Request;
import okhttp3.RequestBody;
import org.junit.jupiter.api.Test;

class LifecycleTest {

  private static List<String> sandboxThreads() {
    List<String> names = new ArrayList<>();
    for (Thread t : Thread.getAllStackTraces().keySet()) {
      if (t.isAlive() && t.getName().startsWith("sandbox-")) {
        names.add(t.getName());
      }
    }
    return names;
  }

  @Test
  void closeStopsAllThreads() throws Exception {
    Sandbox sb = Sandbox.start(TestClient.fastConfig());
    try (TestClient c = new TestClient(sb)) {
      c.login();
      String disk = c.createDisk("raw", 4096);
      c.createTransfer(disk, "upload", null);
      assertThat(sandboxThreads()).isNotEmpty();
    } finally {
      sb.close();
    }
    TestClient.await(() -> sandboxThreads().isEmpty(), Duration.ofSeconds(5));
    sb.close(); // idempotent
  }

  @Test
  void busyPortFailsCleanly() throws Exception {
    try (Sandbox first = Sandbox.start(TestClient.fastConfig())) {
      int port = first.enginePort();
      org.assertj.core.api.Assertions.assertThatThrownBy(
              () -> Sandbox.start(TestClient.fastConfig().withPort(port)))
          .isInstanceOf(java.io.IOException.class);
    }
  }

  @Test
  void parallelWritersOnSeparateConnections() throws Exception {
    try (Sandbox sb = Sandbox.start(TestClient.fastConfig()); TestClient c = new TestClient(sb)) {
      c.login();
      int piece = 3 * 1024 * 1024 + 5;
      int n = 6;
      String disk = c.createDisk("raw", (long) piece * n);
      JsonNode t = c.createTransfer(disk, "upload", "\"format\":\"raw\"");
      String url = t.get("transfer_url").asText();
      byte[] all = new byte[piece * n];
      new Random(7).nextBytes(all);
      ExecutorService pool = Executors.newFixedThreadPool(n);
      try {
        List<Future<Integer>> fs = new ArrayList<>();
        for (int i = 0; i < n; i++) {
          int off = i * piece;
          fs.add(pool.submit(() -> c.call(new Request.Builder().url(url + "?flush=n")
              .header("Content-Range", "bytes " + off + "-" + (off + piece - 1) + "/*")
              .put(RequestBody.create(Arrays.copyOfRange(all, off, off + piece),
                  MediaType.get("application/octet-stream")))).code()));
        }
        for (Future<Integer> f : fs) {
          assertThat(f.get()).isEqualTo(200);
        }
      } finally {
        pool.shutdown();
      }
      assertThat(c.call(new Request.Builder().url(url)).bytes()).isEqualTo(all);
    }
  }

  @Test
  void qcow2VerificationForFileBackend() throws Exception {
    try (Sandbox sb = Sandbox.start(TestClient.fastConfig()); TestClient c = new TestClient(sb)) {
      c.login();
      byte[] qcow = new byte[512];
      qcow[0] = 'Q';
      qcow[1] = 'F';
      qcow[2] = 'I';
      qcow[3] = (byte) 0xfb;
      qcow[7] = 3;
      byte[] withBacking = qcow.clone();
      withBacking[15] = 104; // backing_file_offset != 0
      String[][] cases = {{"good", "finished_success"}, {"backing", "finished_failure"}, {"raw", "finished_failure"}};
      for (String[] cs : cases) {
        String disk = c.createDisk("cow", 1 << 20);
        JsonNode t = c.createTransfer(disk, "upload", "\"format\":\"cow\"");
        byte[] body = cs[0].equals("good") ? qcow : cs[0].equals("backing") ? withBacking : new byte[] {1, 2, 3};
        Request.Builder rb = new Request.Builder().url(t.get("transfer_url").asText())
            .put(RequestBody.create(body, MediaType.get("application/octet-stream")));
        assertThat(c.call(rb).code()).isEqualTo(200);
        JsonNode opts = c.call(new Request.Builder().url(t.get("transfer_url").asText()).method("OPTIONS", null)).json();
        assertThat(opts.get("max_writers").asInt()).isEqualTo(1); // file backend
        String id = t.get("id").asText();
        c.post("/imagetransfers/" + id + "/finalize", "{}");
        TestClient.awaitValue(() -> c.phase(id), p -> p.startsWith("finished"), Duration.ofSeconds(5));
        assertThat(c.phase(id)).as(cs[0]).isEqualTo(cs[1]);
        assertThat(sb.diskStatus(disk).isPresent()).as(cs[0]).isEqualTo(cs[1].equals("finished_success"));
      }
    }
  }
}
