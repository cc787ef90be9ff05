package org.diskferry.ovirt;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CharsetEncoder;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Builds the URL-encoded SSO password-grant form straight from a {@code char[]}, so the password
 * never becomes a (non-erasable) String. The caller zeroes the returned array after use.
 */
final class SsoForm {

  private static final byte[] HEX = "0123456789ABCDEF".getBytes(StandardCharsets.US_ASCII);

  private SsoForm() {}

  static byte[] passwordGrant(String username, char[] password) {
    byte[] user = utf8(username.toCharArray());
    byte[] pass = utf8(password);
    byte[] head = "grant_type=password&scope=ovirt-app-api&username="
        .getBytes(StandardCharsets.US_ASCII);
    byte[] mid = "&password=".getBytes(StandardCharsets.US_ASCII);
    byte[] out = new byte[head.length + mid.length + 3 * (user.length + pass.length)];
    int n = 0;
    System.arraycopy(head, 0, out, n, head.length);
    n += head.length;
    n = encode(user, out, n);
    System.arraycopy(mid, 0, out, n, mid.length);
    n += mid.length;
    n = encode(pass, out, n);
    Arrays.fill(pass, (byte) 0);
    byte[] exact = Arrays.copyOf(out, n);
    Arrays.fill(out, (byte) 0);
    return exact;
  }

  /** Percent-encodes everything except the RFC 3986 unreserved characters. */
  private static int encode(byte[] in, byte[] out, int n) {
    for (byte b : in) {
      int c = b & 0xff;
      if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
          || c == '-' || c == '_' || c == '.' || c == '~') {
        out[n++] = (byte) c;
      } else {
        out[n++] = '%';
        out[n++] = HEX[c >> 4];
        out[n++] = HEX[c & 0xf];
      }
    }
    return n;
  }

  private static byte[] utf8(char[] chars) {
    CharsetEncoder enc =
        StandardCharsets.UTF_8
            .newEncoder()
            .onMalformedInput(CodingErrorAction.REPLACE)
            .onUnmappableCharacter(CodingErrorAction.REPLACE);
    ByteBuffer bb;
    try {
      bb = enc.encode(CharBuffer.wrap(chars));
    } catch (CharacterCodingException e) {
      throw new IllegalStateException("UTF-8 encoding failed", e);
    }
    byte[] bytes = new byte[bb.remaining()];
    bb.get(bytes);
    if (bb.hasArray()) {
      Arrays.fill(bb.array(), (byte) 0);
    }
    return bytes;
  }
}
