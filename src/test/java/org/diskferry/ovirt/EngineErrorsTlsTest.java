package org.diskferry.ovirt;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.EOFException;
import java.io.IOException;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateException;
import javax.net.ssl.SSLHandshakeException;
import javax.net.ssl.SSLPeerUnverifiedException;
import org.junit.jupiter.api.Test;

/** Which TLS failures are about trust (exit 3) and which are a dropped connection (retried). */
class EngineErrorsTlsTest {

  @Test
  void anUnvalidatedChainIsATrustFailure() {
    SSLHandshakeException e = new SSLHandshakeException("PKIX path building failed");
    e.initCause(new CertificateException("unable to find valid certification path",
        new CertPathValidatorException("no trust anchor")));
    assertThat(EngineErrors.isTlsTrust(e)).isTrue();
  }

  @Test
  void aHostNameMismatchIsATrustFailure() {
    assertThat(EngineErrors.isTlsTrust(new SSLPeerUnverifiedException(
        "Hostname engine.example.com not verified"))).isTrue();
  }

  @Test
  void aHandshakeCutShortByTheServerIsNot() {
    SSLHandshakeException e = new SSLHandshakeException("Remote host terminated the handshake");
    e.initCause(new EOFException("SSL peer shut down incorrectly"));
    assertThat(EngineErrors.isTlsTrust(e)).isFalse();
    assertThat(EngineErrors.isTlsTrust(
        new SSLPeerUnverifiedException("cipherSuite == SSL_NULL_WITH_NULL_NULL"))).isFalse();
    assertThat(EngineErrors.isTlsTrust(new IOException("unexpected end of stream"))).isFalse();
  }
}
