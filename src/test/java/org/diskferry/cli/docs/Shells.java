package org.diskferry.cli.docs;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.io.File;
import java.nio.file.Files;
import java.nio.file.Path;

/** External tools the documentation tests need: required in CI, skipped without them locally. */
public final class Shells {
  private Shells() {}

  public static boolean installed(String tool) {
    String path = System.getenv("PATH");
    if (path == null) {
      return false;
    }
    for (String dir : path.split(File.pathSeparator)) {
      if (!dir.isEmpty() && Files.isExecutable(Path.of(dir, tool))) {
        return true;
      }
    }
    return false;
  }

  /** Fails in CI (CI=true), where .ci/run installs the tool; skips the test elsewhere. */
  public static void requireOrSkip(String tool) {
    if (installed(tool)) {
      return;
    }
    if ("true".equals(System.getenv("CI"))) {
      fail(tool + " is not installed, and CI must run this test (.ci/run installs it)");
    }
    assumeTrue(false, tool + " is not installed");
  }

  /** A word for sh/bash/zsh, in single quotes. */
  public static String quote(String s) {
    return "'" + s.replace("'", "'\\''") + "'";
  }
}
