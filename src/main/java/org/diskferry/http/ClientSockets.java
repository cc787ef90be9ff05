package org.diskferry.http;

import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketException;
import javax.net.SocketFactory;

/**
 * The clients' plain sockets: TCP_NODELAY, and reads that time out in the kernel's poll
 * (SO_TIMEOUT) rather than through okio's watchdog thread.
 *
 * <p>TCP_NODELAY (as curl sets it): okio writes at most 8 KiB at a time, so over TLS every record
 * is smaller than a loopback segment, and Nagle's algorithm held each one back until the last was
 * acknowledged. A single worker uploading 1 GiB to the sandbox took 7.9-8.2 s with it and 3.0-3.2
 * s without.
 *
 * <p>OkHttp's read timeout makes okio enter and leave a timeout queue, and wake its watchdog
 * thread, on every read of at most 8 KiB: for a 1 GiB stream that is some 130,000 lock and
 * futex round trips, which cost a download a fifth of its speed. diskferry's clients therefore set
 * no read timeout in OkHttp (which then asks for SO_TIMEOUT 0, "wait forever") and these sockets
 * turn that into the read timeout. A TLS socket layered on one of them passes its timeout down
 * to it, so HTTPS reads are covered too. Only HTTP/1.1 is used: HTTP/2's streams would have no
 * read timeout of their own.
 */
final class ClientSockets extends SocketFactory {

  private final int timeoutMillis;

  ClientSockets(int timeoutMillis) {
    this.timeoutMillis = timeoutMillis;
  }

  @Override
  public Socket createSocket() throws IOException {
    return new TimedSocket(timeoutMillis);
  }

  @Override
  public Socket createSocket(String host, int port) throws IOException {
    return connected(null, new InetSocketAddress(host, port));
  }

  @Override
  public Socket createSocket(String host, int port, InetAddress localHost, int localPort)
      throws IOException {
    return connected(new InetSocketAddress(localHost, localPort), new InetSocketAddress(host, port));
  }

  @Override
  public Socket createSocket(InetAddress host, int port) throws IOException {
    return connected(null, new InetSocketAddress(host, port));
  }

  @Override
  public Socket createSocket(InetAddress address, int port, InetAddress localAddress, int localPort)
      throws IOException {
    return connected(
        new InetSocketAddress(localAddress, localPort), new InetSocketAddress(address, port));
  }

  private Socket connected(InetSocketAddress local, InetSocketAddress remote) throws IOException {
    Socket s = createSocket();
    try {
      if (local != null) {
        s.bind(local);
      }
      s.connect(remote);
      return s;
    } catch (IOException e) {
      s.close();
      throw e;
    }
  }

  /** A socket without Nagle's delay on which "no timeout" means the default read timeout. */
  static final class TimedSocket extends Socket {
    private final int defaultMillis;

    TimedSocket(int defaultMillis) throws SocketException {
      this.defaultMillis = defaultMillis;
      super.setSoTimeout(defaultMillis);
      setTcpNoDelay(true);
    }

    @Override
    public synchronized void setSoTimeout(int timeout) throws SocketException {
      super.setSoTimeout(timeout == 0 ? defaultMillis : timeout);
    }
  }
}
