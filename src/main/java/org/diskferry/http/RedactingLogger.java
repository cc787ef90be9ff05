package org.diskferry.http;

import java.io.IOException;
import java.util.function.Consumer;
import java.util.regex.Pattern;
import okhttp3.Interceptor;
import okhttp3.Request;
import okhttp3.Response;

/**
 * Logs one line per HTTP exchange: method, redacted URL, status, time. Never headers or bodies, so
 * tokens, passwords and tickets stay out of logs.
 */
public final class RedactingLogger implements Interceptor {

  private static final Pattern TICKET = Pattern.compile("/images/[^/?]+");

  private final Consumer<String> sink;

  public RedactingLogger(Consumer<String> sink) {
    this.sink = sink;
  }

  /** A URL with the imageio ticket and the query string removed. */
  public static String redact(String url) {
    int q = url.indexOf('?');
    String path = q >= 0 ? url.substring(0, q) : url;
    return TICKET.matcher(path).replaceAll("/images/<ticket>");
  }

  @Override
  public Response intercept(Chain chain) throws IOException {
    Request req = chain.request();
    long start = System.nanoTime();
    String what = req.method() + " " + redact(req.url().toString());
    try {
      Response resp = chain.proceed(req);
      long ms = (System.nanoTime() - start) / 1_000_000;
      sink.accept("http: " + what + " -> " + resp.code() + " (" + ms + " ms)");
      return resp;
    } catch (IOException e) {
      sink.accept("http: " + what + " -> " + e.getClass().getSimpleName() + ": " + e.getMessage());
      throw e;
    }
  }
}
