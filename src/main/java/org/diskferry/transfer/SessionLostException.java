package org.diskferry.transfer;

import java.io.IOException;

/**
 * The data plane refused the transfer's credentials (imageio's 403: the ticket expired, or the
 * session was paused or ended). Sending the request again cannot help until the control plane has
 * put the session back in order, which {@link TransferSession#recover} tries.
 */
public class SessionLostException extends IOException {
  public SessionLostException(String message) {
    super(message);
  }
}
