package org.diskferry.cli;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.diskferry.cli.progress.ByteSizes;
import picocli.CommandLine;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.TypeConversionException;

/**
 * The types of option values: fixed value sets as enums that print as their wire names (so help,
 * errors and shell completion show {@code qcow2}, not {@code QCOW2}), sizes, and numbers with a
 * range. picocli converts and checks them while it parses, so a value out of range is a usage
 * error like any other ({@code Invalid value for option '--workers': ...}, exit 2).
 */
final class OptionTypes {
  private OptionTypes() {}

  /**
   * An enum whose constants are spelt in lower case on the wire, in files and by the user; each
   * enum's toString() returns wire(), which is what picocli shows in help and completion.
   */
  interface Wire {
    default String wire() {
      return ((Enum<?>) this).name().toLowerCase(Locale.ROOT);
    }
  }

  /** The format of an oVirt disk or of a local image file. */
  enum DiskFormat implements Wire {
    RAW,
    QCOW2;

    @Override
    public String toString() {
      return wire();
    }
  }

  /** What the engine does with an idle transfer. */
  enum TimeoutPolicy implements Wire {
    LEGACY,
    PAUSE,
    CANCEL;

    @Override
    public String toString() {
      return wire();
    }
  }

  /** The disk formats Glance accepts (its default {@code disk_formats}). */
  enum GlanceDiskFormat implements Wire {
    RAW,
    QCOW2,
    VMDK,
    VDI,
    VHD,
    VHDX,
    ISO,
    PLOOP,
    AMI,
    ARI,
    AKI;

    @Override
    public String toString() {
      return wire();
    }
  }

  /** Who can see a Glance image. */
  enum Visibility implements Wire {
    PUBLIC,
    COMMUNITY,
    SHARED,
    PRIVATE;

    @Override
    public String toString() {
      return wire();
    }
  }

  /** The wire value of an optional enum option, or null. */
  static String wire(Wire value) {
    return value == null ? null : value.wire();
  }

  /**
   * Converts a wire name (any case) to its constant; anything else is an error that lists the
   * wire names, as the user types them.
   */
  static final class WireConverter<E extends Enum<E> & Wire> implements ITypeConverter<E> {
    private final Class<E> type;

    WireConverter(Class<E> type) {
      this.type = type;
    }

    @Override
    public E convert(String value) {
      List<String> names = new ArrayList<>();
      for (E e : type.getEnumConstants()) {
        if (e.wire().equalsIgnoreCase(value.strip())) {
          return e;
        }
        names.add(e.wire());
      }
      throw new TypeConversionException(
          "expected one of " + String.join(", ", names) + " but was '" + value + "'");
    }
  }

  /** Registers the wire-name converters on a command and its subcommands. */
  static void register(CommandLine cmd) {
    cmd.registerConverter(DiskFormat.class, new WireConverter<>(DiskFormat.class));
    cmd.registerConverter(TimeoutPolicy.class, new WireConverter<>(TimeoutPolicy.class));
    cmd.registerConverter(GlanceDiskFormat.class, new WireConverter<>(GlanceDiskFormat.class));
    cmd.registerConverter(Visibility.class, new WireConverter<>(Visibility.class));
  }

  // ----------------------------------------------------------------------- numbers and sizes

  /** An int in [min, max]; subclasses name the range (picocli instantiates converters). */
  abstract static class IntRange implements ITypeConverter<Integer> {
    private final int min;
    private final int max;

    IntRange(int min, int max) {
      this.min = min;
      this.max = max;
    }

    @Override
    public Integer convert(String value) {
      int n;
      try {
        n = Integer.parseInt(value.strip());
      } catch (NumberFormatException e) {
        throw new TypeConversionException("'" + value + "' is not an int");
      }
      if (n < min || n > max) {
        throw new TypeConversionException(
            n + " is out of range: " + (max == Integer.MAX_VALUE
                ? "at least " + min
                : "from " + min + " to " + max));
      }
      return n;
    }
  }

  /** A byte count such as {@code 4M} or {@code 8MiB} in [min, max]. */
  abstract static class SizeRange implements ITypeConverter<Long> {
    private final long min;
    private final long max;

    SizeRange(long min, long max) {
      this.min = min;
      this.max = max;
    }

    @Override
    public Long convert(String value) {
      long n;
      try {
        n = ByteSizes.parse(value);
      } catch (IllegalArgumentException e) {
        throw new TypeConversionException(e.getMessage());
      }
      if (n < min || n > max) {
        throw new TypeConversionException(
            "'" + value + "' is out of range: " + (max == Long.MAX_VALUE
                ? "at least " + human(min)
                : "from " + human(min) + " to " + human(max)));
      }
      return n;
    }

    /** 64K, 64M: the way the user writes a size. */
    private static String human(long n) {
      String[] units = {"", "K", "M", "G", "T"};
      int u = 0;
      while (u < units.length - 1 && n >= 1024 && n % 1024 == 0) {
        n /= 1024;
        u++;
      }
      return n + units[u];
    }
  }

  /** --workers: 1 to 16 connections. */
  static final class Workers extends IntRange {
    Workers() {
      super(1, 16);
    }
  }

  /** --retries: 0 to 100. */
  static final class Retries extends IntRange {
    Retries() {
      super(0, 100);
    }
  }

  /** Seconds or milliseconds that cannot be negative. */
  static final class NotNegative extends IntRange {
    NotNegative() {
      super(0, Integer.MAX_VALUE);
    }
  }

  /** --timeout: 1 second to a day. */
  static final class Seconds extends IntRange {
    Seconds() {
      super(1, 86_400);
    }
  }

  /** A TCP port, 0 for any free one. */
  static final class Port extends IntRange {
    Port() {
      super(0, 65535);
    }
  }

  /** --buffer-size: 64K to 64M. */
  static final class BufferSize extends SizeRange {
    BufferSize() {
      super(64 << 10, 64 << 20);
    }
  }

  /** --range-size: at least 4K. */
  static final class RangeSize extends SizeRange {
    RangeSize() {
      super(4096, Long.MAX_VALUE);
    }
  }
}
