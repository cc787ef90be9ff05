package org.diskferry.cli;

import java.util.Iterator;
import java.util.List;

/** Value lists of string options, for help texts and shell completion. */
final class Candidates {
  private Candidates() {}

  /** Image formats a disk or a local file can have. */
  static final class ImageFormats implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return List.of("raw", "qcow2").iterator();
    }
  }

  /** The disk formats Glance takes. */
  static final class GlanceDiskFormats implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return org.diskferry.glance.GlanceUpload.DISK_FORMATS.stream().sorted().iterator();
    }
  }

  /** Glance image visibilities. */
  static final class Visibilities implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return List.of("public", "community", "shared", "private").iterator();
    }
  }

  /** What the engine does with an idle transfer. */
  static final class TimeoutPolicies implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return List.of("legacy", "pause", "cancel").iterator();
    }
  }
}
