package org.diskferry.ovirt;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A tiny HTTP/1.1 server on 127.0.0.1 for what WireMock cannot fake: a keep-alive connection that
 * the server drops after reading a request, or a body shorter than its Content-Length.
 */
final class ScriptedHttpServer implements AutoCloseable {

  /** One received request. */
  record Received(int connection, int index, String requestLine, byte[] body) {}

  /** Decides what to do with the n-th request (1-based, counted over all connections). */
  interface Script {
    /**
     * Returns the raw response to send, or null to close the connection without answering. A
     * response with a {@code Connection: close} header is followed by closing the connection.
     */
    byte[] respond(int index, String requestLine);
  }

  private final ServerSocket server;
  private final Script script;
  private final Thread acceptor;
  private final AtomicInteger connections = new AtomicInteger();
  private final AtomicInteger requests = new AtomicInteger();
  private final List<Socket> sockets = new CopyOnWriteArrayList<>();
  final List<Received> received = new CopyOnWriteArrayList<>();

  ScriptedHttpServer(Script script) throws IOException {
    this.server = new ServerSocket(0, 16, InetAddress.getByName("127.0.0.1"));
    this.script = script;
    this.acceptor = new Thread(this::acceptLoop, "scripted-http");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  int port() {
    return server.getLocalPort();
  }

  private void acceptLoop() {
    while (!server.isClosed()) {
      try {
        Socket s = server.accept();
        sockets.add(s);
        int conn = connections.incrementAndGet();
        Thread t = new Thread(() -> serve(s, conn), "scripted-http-" + conn);
        t.setDaemon(true);
        t.start();
      } catch (IOException e) {
        return;
      }
    }
  }

  private void serve(Socket s, int conn) {
    try (s; InputStream in = s.getInputStream(); OutputStream out = s.getOutputStream()) {
      while (true) {
        String requestLine = line(in);
        if (requestLine == null || requestLine.isEmpty()) {
          return;
        }
        long length = 0;
        for (String h = line(in); h != null && !h.isEmpty(); h = line(in)) {
          int colon = h.indexOf(':');
          if (colon > 0
              && h.substring(0, colon).trim().toLowerCase(Locale.ROOT).equals("content-length")) {
            length = Long.parseLong(h.substring(colon + 1).trim());
          }
        }
        byte[] body = in.readNBytes((int) length);
        int index = requests.incrementAndGet();
        received.add(new Received(conn, index, requestLine, body));
        byte[] answer = script.respond(index, requestLine);
        if (answer == null) {
          return;
        }
        out.write(answer);
        out.flush();
        if (new String(answer, StandardCharsets.ISO_8859_1).contains("\r\nConnection: close\r\n")) {
          return;
        }
      }
    } catch (IOException e) {
      // the client went away
    }
  }

  private static String line(InputStream in) throws IOException {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    int c;
    while ((c = in.read()) != -1) {
      if (c == '\n') {
        String s = b.toString(StandardCharsets.ISO_8859_1);
        return s.endsWith("\r") ? s.substring(0, s.length() - 1) : s;
      }
      b.write(c);
    }
    return b.size() == 0 ? null : b.toString(StandardCharsets.ISO_8859_1);
  }

  static byte[] response(String statusLine, String headers, byte[] body) {
    byte[] head = ("HTTP/1.1 " + statusLine + "\r\n" + headers + "\r\n")
        .getBytes(StandardCharsets.ISO_8859_1);
    byte[] all = new byte[head.length + body.length];
    System.arraycopy(head, 0, all, 0, head.length);
    System.arraycopy(body, 0, all, head.length, body.length);
    return all;
  }

  @Override
  public void close() throws IOException {
    server.close();
    for (Socket s : sockets) {
      s.close();
    }
    try {
      acceptor.join(5000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
