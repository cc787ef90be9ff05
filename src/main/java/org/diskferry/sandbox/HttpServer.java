package org.diskferry.sandbox;

import java.io.Closeable;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketException;
import java.net.SocketTimeoutException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Predicate;
import java.util.function.Supplier;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.net.ssl.SSLContext;

/**
 * A small HTTP/1.1 server: one thread per connection from a bounded pool, keep-alive,
 * Content-Length bodies, {@code Expect: 100-continue}. Listens on 127.0.0.1 only. All request
 * semantics live in the {@link Handler}.
 */
final class HttpServer implements Closeable {
  private static final Logger LOG = Logger.getLogger(HttpServer.class.getName());

  /** Default socket read timeout of a connection before a ticket is used on it. */
  static final int DEFAULT_SOCKET_TIMEOUT_MS = 60_000;

  interface Handler {
    void handle(Exchange ex) throws IOException;
  }

  private final String name;
  private final ServerSocket server;
  private final ThreadPoolExecutor pool;
  private final Thread acceptor;
  private final Handler handler;
  private final Supplier<FaultHook> faults;
  private final Set<Socket> sockets = ConcurrentHashMap.newKeySet();
  /** The connections being served (a socket is in {@link #sockets} before its thread starts). */
  private final Set<Exchange.Conn> conns = ConcurrentHashMap.newKeySet();
  private volatile boolean closed;

  HttpServer(String name, int port, SSLContext ssl, int maxConnections, Handler handler)
      throws IOException {
    this(name, port, ssl, maxConnections, handler, () -> null);
  }

  /** With a source of the current fault hook, for its idle-close time. */
  HttpServer(
      String name,
      int port,
      SSLContext ssl,
      int maxConnections,
      Handler handler,
      Supplier<FaultHook> faults)
      throws IOException {
    this.name = name;
    this.handler = handler;
    this.faults = faults;
    ServerSocket s =
        ssl == null ? new ServerSocket() : ssl.getServerSocketFactory().createServerSocket();
    try {
      s.setReuseAddress(true);
      s.bind(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), port), 128);
    } catch (IOException e) {
      s.close();
      throw e;
    }
    this.server = s;
    AtomicInteger n = new AtomicInteger();
    this.pool =
        new ThreadPoolExecutor(
            0,
            maxConnections,
            10,
            TimeUnit.SECONDS,
            new SynchronousQueue<>(),
            r -> {
              Thread t = new Thread(r, "sandbox-" + name + "-conn-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
    this.acceptor = new Thread(this::acceptLoop, "sandbox-" + name + "-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return server.getLocalPort();
  }

  String name() {
    return name;
  }

  private void acceptLoop() {
    while (!closed) {
      Socket s;
      try {
        s = server.accept();
      } catch (IOException e) {
        if (closed) {
          return;
        }
        LOG.log(Level.FINE, "accept failed", e);
        continue;
      }
      sockets.add(s);
      if (closed) {
        closeQuietly(s);
        return;
      }
      try {
        pool.execute(() -> serve(s));
      } catch (RejectedExecutionException e) {
        // Too many connections (or shutting down): refuse this one.
        sockets.remove(s);
        closeQuietly(s);
      }
    }
  }

  private void serve(Socket s) {
    Exchange.Conn conn = null;
    try {
      s.setTcpNoDelay(true);
      s.setSoTimeout(DEFAULT_SOCKET_TIMEOUT_MS);
      conn = new Exchange.Conn(s);
      conns.add(conn);
      boolean first = true;
      while (!closed) {
        Exchange ex;
        // A keep-alive connection waiting for its next request: a fault may shorten the wait.
        int idleClose = first ? 0 : idleCloseMillis(conn);
        first = false;
        int normal = s.getSoTimeout();
        if (idleClose > 0) {
          s.setSoTimeout(idleClose);
        }
        try {
          ex = Exchange.read(conn, name);
          if (idleClose > 0) {
            s.setSoTimeout(normal);
          }
        } catch (SocketTimeoutException e) {
          if (idleClose > 0) {
            FaultHook h = faults.get();
            if (h != null) {
              h.idleClosed(name);
            }
          }
          return; // idle keep-alive connection: close silently, like imageio
        } catch (Exchange.BadRequestException e) {
          conn.writeRaw(
              "HTTP/1.1 " + e.status + " " + Exchange.reason(e.status)
                  + "\r\ncontent-type: text/plain; charset=UTF-8\r\ncontent-length: "
                  + (e.getMessage().length() + 1) + "\r\nconnection: close\r\n\r\n"
                  + e.getMessage() + "\n");
          return;
        }
        if (ex == null) {
          return;
        }
        try {
          handler.handle(ex);
          if (!ex.responded()) {
            ex.sendText(500, "Server failed to perform the request, check logs");
          }
        } catch (Exchange.AbortException e) {
          return;
        } catch (RuntimeException e) {
          LOG.log(Level.WARNING, "request failed: " + ex.method() + " " + ex.path(), e);
          if (!ex.responded()) {
            ex.closeAfter();
            ex.sendText(500, "Server failed to perform the request, check logs");
          }
          return;
        }
        if (!ex.finish()) {
          return;
        }
      }
    } catch (SocketException | SocketTimeoutException e) {
      // peer went away or stalled
    } catch (IOException e) {
      LOG.log(Level.FINE, "connection error", e);
    } finally {
      if (conn != null) {
        conns.remove(conn);
      }
      sockets.remove(s);
      closeQuietly(s);
    }
  }

  /** The fault hook's idle-close time, for data-plane connections only; 0 for none. */
  private int idleCloseMillis(Exchange.Conn conn) {
    FaultHook h = faults.get();
    if (h == null || (conn.ticket == null && !name.equals("daemon"))) {
      return 0;
    }
    return Math.max(0, h.idleCloseMillis());
  }

  /** Closes the open connections that match, as a restarting data plane does; returns how many. */
  int dropConnections(Predicate<Exchange.Conn> which) {
    int n = 0;
    for (Exchange.Conn c : conns) {
      if (which.test(c)) {
        closeQuietly(c.socket);
        n++;
      }
    }
    return n;
  }

  /** Stops accepting, closes all connections and waits for the connection threads. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    closeQuietly(server);
    for (Socket s : sockets) {
      closeQuietly(s);
    }
    pool.shutdownNow();
    try {
      acceptor.join(5000);
      if (!pool.awaitTermination(5, TimeUnit.SECONDS)) {
        LOG.warning("sandbox " + name + " connection threads did not stop in time");
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  static void closeQuietly(Closeable c) {
    try {
      c.close();
    } catch (IOException e) {
      // ignore
    }
  }
}
