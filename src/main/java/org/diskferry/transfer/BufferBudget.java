package org.diskferry.transfer;

/**
 * What a transfer's buffers may cost together, so that every {@code --buffer-size} and {@code
 * --workers} the options accept works within the memory the launcher gives the JVM (a 128 MiB heap
 * for transfers), instead of ending in an {@link OutOfMemoryError}.
 *
 * <p>The workers' buffers of an oVirt transfer are direct memory, which the JVM limits to the
 * maximum heap size unless told otherwise; the Glance path keeps a small ring of buffers on the
 * heap. A request that does not fit gets smaller buffers, and the caller says so. Buffers larger
 * than a few MiB buy nothing measurable: a request is a request, and the data streams through
 * the socket 8 KiB at a time whatever the buffer.
 */
public final class BufferBudget {
  private BufferBudget() {}

  /** The smallest buffer, and the unit buffers are rounded down to. */
  static final int UNIT = 64 << 10;

  /**
   * Direct memory the workers' buffers may take together: 60% of the JVM's limit (the rest is for
   * the JVM's temporary buffers of file and socket I/O, the zero-block scan and the image readers).
   */
  public static long direct() {
    return share(0.6);
  }

  /** Heap the Glance path's buffers may take together: a quarter of the heap. */
  public static long heap() {
    return share(0.25);
  }

  private static long share(double part) {
    long max = Runtime.getRuntime().maxMemory();
    return max == Long.MAX_VALUE ? 1L << 30 : (long) (max * part);
  }

  /**
   * The size of each of {@code count} buffers: {@code requested} when they all fit into {@code
   * budget}, else the largest whole number of MiB (or of 64 KiB below 1 MiB) that does, never
   * less than 64 KiB.
   */
  public static int fit(int requested, int count, long budget) {
    long total = (long) requested * count;
    if (total <= budget) {
      return requested;
    }
    long each = budget / Math.max(1, count);
    long unit = each >= 1 << 20 ? 1 << 20 : UNIT;
    return (int) Math.max(UNIT, each / unit * unit);
  }

  /** The warning for buffers that were made smaller than asked. */
  public static String warning(int requested, int count, int fitted, String what) {
    return "--buffer-size " + mib(requested) + " for " + count + " " + what + " needs "
        + mib((long) requested * count) + " of memory, more than this process has for buffers;"
        + " using " + mib(fitted) + " each (" + mib((long) fitted * count) + " in all)";
  }

  private static String mib(long bytes) {
    return bytes % (1 << 20) == 0
        ? (bytes >> 20) + " MiB"
        : String.format(java.util.Locale.ROOT, "%.2f MiB", bytes / 1048576.0);
  }
}
