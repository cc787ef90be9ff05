package org.diskferry.http;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.SecureRandom;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.function.Consumer;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509TrustManager;
import okhttp3.ConnectionPool;
import okhttp3.Dispatcher;
import okhttp3.OkHttpClient;
import okhttp3.Protocol;
import org.diskferry.error.DiskferryException;

/** The one place that builds OkHttp clients: TLS trust, timeouts, user agent, redacted logging. */
public final class HttpClientFactory {

  /** The User-Agent sent on every request. */
  public static final String USER_AGENT = "diskferry/" + Version.get();

  /** How long a read may wait for data before the request fails (and is retried). */
  static final int READ_TIMEOUT_MILLIS = 60_000;

  private HttpClientFactory() {}

  /**
   * Builds a client.
   *
   * @param tls how to verify servers
   * @param log where to write one redacted line per request, or null for no request log
   */
  public static OkHttpClient create(TlsOptions tls, Consumer<String> log) {
    return create(tls, log, READ_TIMEOUT_MILLIS);
  }

  /**
   * Builds a client whose connects and reads each wait at most {@code timeout} ({@code
   * --timeout}); null keeps the defaults (10 s to connect, 60 s of silence on a read).
   */
  public static OkHttpClient create(TlsOptions tls, Consumer<String> log, Duration timeout) {
    return timeout == null
        ? create(tls, log)
        : create(tls, log, (int) Math.min(Integer.MAX_VALUE, timeout.toMillis()), timeout);
  }

  /** Builds a client whose reads wait at most {@code readTimeoutMillis} for data. */
  static OkHttpClient create(TlsOptions tls, Consumer<String> log, int readTimeoutMillis) {
    return create(tls, log, readTimeoutMillis, Duration.ofSeconds(10));
  }

  private static OkHttpClient create(
      TlsOptions tls, Consumer<String> log, int readTimeoutMillis, Duration connectTimeout) {
    Dispatcher dispatcher = new Dispatcher();
    dispatcher.setMaxRequests(64);
    dispatcher.setMaxRequestsPerHost(64);
    OkHttpClient.Builder b =
        new OkHttpClient.Builder()
            .dispatcher(dispatcher)
            .connectionPool(new ConnectionPool(32, 50, java.util.concurrent.TimeUnit.SECONDS))
            .connectTimeout(connectTimeout)
            // Reads time out in the socket itself, and no Nagle delay (ClientSockets).
            .readTimeout(Duration.ZERO)
            .socketFactory(new ClientSockets(readTimeoutMillis))
            .protocols(List.of(Protocol.HTTP_1_1))
            .writeTimeout(Duration.ofSeconds(60))
            .followRedirects(false)
            .retryOnConnectionFailure(true)
            .addInterceptor(
                chain ->
                    chain.proceed(
                        chain.request().newBuilder().header("User-Agent", USER_AGENT).build()));
    if (log != null) {
      b.addNetworkInterceptor(new RedactingLogger(log));
    }
    try {
      if (tls.insecure()) {
        X509TrustManager trustAll = new TrustAll();
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new TrustManager[] {trustAll}, new SecureRandom());
        b.sslSocketFactory(ctx.getSocketFactory(), trustAll).hostnameVerifier((h, s) -> true);
      } else if (tls.caFile() != null) {
        X509TrustManager tm = trustManagerFor(tls.caFile());
        SSLContext ctx = SSLContext.getInstance("TLS");
        ctx.init(null, new TrustManager[] {tm}, new SecureRandom());
        b.sslSocketFactory(ctx.getSocketFactory(), tm);
      }
    } catch (GeneralSecurityException e) {
      throw DiskferryException.auth("cannot set up TLS: " + e.getMessage());
    }
    return b.build();
  }

  /** A trust manager that trusts exactly the certificates in a PEM bundle. */
  public static X509TrustManager trustManagerFor(java.nio.file.Path pem) {
    Collection<? extends Certificate> certs;
    try {
      certs = CertificateFactory.getInstance("X.509")
          .generateCertificates(new java.io.ByteArrayInputStream(caBytes(pem)));
    } catch (GeneralSecurityException e) {
      throw DiskferryException.badInput("CA file " + pem + " is not a PEM certificate bundle");
    }
    if (certs.isEmpty()) {
      throw DiskferryException.badInput("CA file " + pem + " holds no certificate");
    }
    try {
      KeyStore ks = KeyStore.getInstance(KeyStore.getDefaultType());
      ks.load(null, null);
      int i = 0;
      for (Certificate c : certs) {
        ks.setCertificateEntry("ca" + i++, c);
      }
      TrustManagerFactory tmf =
          TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      tmf.init(ks);
      for (TrustManager tm : tmf.getTrustManagers()) {
        if (tm instanceof X509TrustManager x) {
          return x;
        }
      }
      throw new GeneralSecurityException("no X509 trust manager");
    } catch (GeneralSecurityException | IOException e) {
      throw DiskferryException.badInput("cannot use CA file " + pem + ": " + e.getMessage());
    }
  }

  /** The largest CA file read: the biggest system bundles are well under 1 MiB. */
  private static final long MAX_CA_FILE = 16L << 20;

  /**
   * The bytes of a CA file that can be a certificate bundle: PEM (with a BEGIN CERTIFICATE line)
   * or a single DER certificate. Anything else is refused before the certificate parser, which
   * takes many seconds to give up on a large binary file.
   */
  private static byte[] caBytes(java.nio.file.Path pem) {
    byte[] bytes;
    try {
      if (Files.isDirectory(pem)) {
        throw DiskferryException.badInput("CA file " + pem + " is a directory");
      }
      if (Files.size(pem) > MAX_CA_FILE) {
        throw DiskferryException.badInput(
            "CA file " + pem + " is not a PEM certificate bundle (it is larger than 16 MiB)");
      }
      bytes = Files.readAllBytes(pem);
    } catch (java.nio.file.NoSuchFileException e) {
      throw DiskferryException.badInput("CA file " + pem + " does not exist");
    } catch (java.nio.file.AccessDeniedException e) {
      throw DiskferryException.badInput("cannot read CA file " + pem + ": permission denied");
    } catch (IOException e) {
      throw DiskferryException.badInput("cannot read CA file " + pem + ": " + e.getMessage());
    }
    String text = new String(bytes, java.nio.charset.StandardCharsets.ISO_8859_1);
    boolean der = bytes.length > 0 && bytes.length < 64 << 10 && bytes[0] == 0x30;
    if (!text.contains("-----BEGIN CERTIFICATE-----") && !der) {
      throw DiskferryException.badInput(
          "CA file " + pem + " is not a PEM certificate bundle (no BEGIN CERTIFICATE line)");
    }
    return bytes;
  }

  private static final class TrustAll implements X509TrustManager {
    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) {}

    @Override
    public X509Certificate[] getAcceptedIssuers() {
      return new X509Certificate[0];
    }
  }
}
