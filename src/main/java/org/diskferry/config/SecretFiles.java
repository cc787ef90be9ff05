package org.diskferry.config;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import java.util.function.Consumer;

/** The one check for files that hold a secret: a password file, a config file, clouds.yaml. */
public final class SecretFiles {
  private SecretFiles() {}

  /**
   * Warns when {@code file}, which holds {@code what} (e.g. "a password"), can be read by its group
   * or by others. Says nothing where there are no POSIX permissions or the file cannot be read.
   */
  public static void warnIfShared(Path file, String what, Consumer<String> warn) {
    Set<PosixFilePermission> perms;
    try {
      perms = Files.getPosixFilePermissions(file);
    } catch (UnsupportedOperationException | IOException e) {
      return; // no POSIX permissions here (e.g. Windows), or nothing to read: nothing to check
    }
    if (perms.contains(PosixFilePermission.GROUP_READ)
        || perms.contains(PosixFilePermission.OTHERS_READ)) {
      warn.accept(file + " holds " + what + " and is readable by others; chmod 600 " + file);
    }
  }
}
