package org.diskferry.glance;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;

/**
 * A TCP proxy on 127.0.0.1 in front of a server that can cut the connection once after a number
 * of bytes in one direction: the fault of a network that drops a long transfer. It also records
 * the request heads (text before the first blank line of what the client sends first).
 */
public final class CuttingProxy implements AutoCloseable {

  private final ServerSocket server;
  private final int upstreamPort;
  private final ExecutorService pool = Executors.newCachedThreadPool();
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  private final AtomicReference<Cut> cut = new AtomicReference<>();
  /** Request heads the client sent (request line and headers), in order. */
  public final List<String> requests = new CopyOnWriteArrayList<>();
  /** Status lines the server sent, in order. */
  public final List<String> responses = new CopyOnWriteArrayList<>();

  private static final class Cut {
    final boolean toServer;
    long remaining;
    final Runnable onCut;

    Cut(boolean toServer, long remaining, Runnable onCut) {
      this.toServer = toServer;
      this.remaining = remaining;
      this.onCut = onCut;
    }
  }

  public CuttingProxy(int upstreamPort) throws IOException {
    this.upstreamPort = upstreamPort;
    server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    pool.execute(this::accept);
  }

  public int port() {
    return server.getLocalPort();
  }

  public String url() {
    return "http://127.0.0.1:" + port();
  }

  private volatile long bytesPerSecond;

  /** Slows both directions down to about this rate per connection; 0 for full speed. */
  public void throttle(long bytesPerSecond) {
    this.bytesPerSecond = bytesPerSecond;
  }

  /** Cuts once, after {@code bytes} more bytes from the server to the client. */
  public void cutResponseAfter(long bytes, Runnable onCut) {
    cut.set(new Cut(false, bytes, onCut));
  }

  /** Cuts once, after {@code bytes} more bytes from the client to the server. */
  public void cutRequestAfter(long bytes, Runnable onCut) {
    cut.set(new Cut(true, bytes, onCut));
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        Socket up = new Socket(InetAddress.getLoopbackAddress(), upstreamPort);
        sockets.add(client);
        sockets.add(up);
        pool.execute(() -> pump(client, up, true));
        pool.execute(() -> pump(up, client, false));
      } catch (IOException e) {
        return;
      }
    }
  }

  private void pump(Socket from, Socket to, boolean toServer) {
    byte[] buf = new byte[16 << 10];
    try (InputStream in = from.getInputStream()) {
      OutputStream out = to.getOutputStream();
      int n;
      while ((n = in.read(buf)) > 0) {
        record(buf, n, toServer);
        Cut c = cut.get();
        if (c != null && c.toServer == toServer) {
          synchronized (c) {
            if (c.remaining <= n && cut.compareAndSet(c, null)) {
              out.write(buf, 0, (int) Math.max(0, c.remaining));
              out.flush();
              if (c.onCut != null) {
                c.onCut.run();
              }
              from.close();
              to.close();
              return;
            }
            c.remaining -= n;
          }
        }
        out.write(buf, 0, n);
        long rate = bytesPerSecond;
        if (rate > 0) {
          try {
            Thread.sleep(Math.max(1, n * 1000L / rate));
          } catch (InterruptedException e) {
            return;
          }
        }
      }
    } catch (IOException e) {
      // the other side closed
    } finally {
      try {
        to.shutdownOutput();
      } catch (IOException e) {
        // already closed
      }
    }
  }

  private void record(byte[] buf, int n, boolean toServer) {
    String s = new String(buf, 0, Math.min(n, 2048), StandardCharsets.ISO_8859_1);
    if (toServer && s.matches("(?s)^(GET|PUT|POST|DELETE|PATCH|HEAD) .*")) {
      int end = s.indexOf("\r\n\r\n");
      requests.add(end > 0 ? s.substring(0, end) : s);
    } else if (!toServer && s.startsWith("HTTP/1.")) {
      int end = s.indexOf("\r\n");
      responses.add(end > 0 ? s.substring(0, end) : s);
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket s : sockets) {
      s.close();
    }
    pool.shutdownNow();
    try {
      pool.awaitTermination(10, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
