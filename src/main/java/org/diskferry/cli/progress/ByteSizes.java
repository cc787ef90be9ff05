package org.diskferry.cli.progress;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/** Byte counts for people: formatting ({@code 1.50 GiB}) and parsing ({@code --buffer-size 8M}). */
public final class ByteSizes {

  private static final String[] UNITS = {"B", "KiB", "MiB", "GiB", "TiB", "PiB", "EiB"};

  /** A number, optional blanks, an optional unit letter with optional "i" and "B". */
  private static final Pattern SIZE =
      Pattern.compile("(?i)([0-9]+(?:\\.[0-9]+)?)\\s*(?:([kmgtp])(i)?)?(b)?");

  private ByteSizes() {}

  /**
   * Formats a byte count with binary units: {@code 512 B}, {@code 1.50 KiB}, {@code 4.00 GiB}.
   * Negative counts are formatted with a minus sign.
   */
  public static String format(long bytes) {
    if (bytes < 0) {
      return bytes == Long.MIN_VALUE ? "-8.00 EiB" : "-" + format(-bytes);
    }
    if (bytes < 1024) {
      return bytes + " B";
    }
    int unit = 0;
    double value = bytes;
    while (value >= 1024 && unit < UNITS.length - 1) {
      value /= 1024;
      unit++;
    }
    // 1023.999 KiB would print as "1024.00 KiB"; move it to the next unit.
    if (Math.round(value * 100) >= 1024 * 100 && unit < UNITS.length - 1) {
      value /= 1024;
      unit++;
    }
    return String.format(Locale.ROOT, "%.2f %s", value, UNITS[unit]);
  }

  /**
   * Formats a transfer rate with one decimal: {@code 512.3 MiB/s}; a negative or NaN rate is "?".
   */
  public static String formatRate(double bytesPerSecond) {
    if (Double.isNaN(bytesPerSecond) || Double.isInfinite(bytesPerSecond) || bytesPerSecond < 0) {
      return "? B/s";
    }
    if (bytesPerSecond < 1024) {
      return String.format(Locale.ROOT, "%.0f B/s", bytesPerSecond);
    }
    int unit = 0;
    double value = bytesPerSecond;
    while (value >= 1024 && unit < UNITS.length - 1) {
      value /= 1024;
      unit++;
    }
    if (Math.round(value * 10) >= 1024 * 10 && unit < UNITS.length - 1) {
      value /= 1024;
      unit++;
    }
    return String.format(Locale.ROOT, "%.1f %s/s", value, UNITS[unit]);
  }

  /**
   * Parses a size such as {@code 8M}, {@code 8MiB}, {@code 8 MB}, {@code 512k}, {@code 1g}, {@code
   * 1.5G} or plain bytes ({@code 4096}, {@code 4096B}). Units are case-insensitive and always
   * powers of 1024 (like qemu-img): K, M, G, T and P, each optionally followed by "i" and/or "B".
   *
   * @throws IllegalArgumentException for anything else, for a fraction of a byte, or for a size
   *     that does not fit in a long
   */
  public static long parse(String text) {
    if (text == null || text.isBlank()) {
      throw invalid(text, "it is empty");
    }
    String trimmed = text.strip();
    Matcher m = SIZE.matcher(trimmed);
    if (!m.matches()) {
      throw invalid(trimmed, null);
    }
    int power =
        m.group(2) == null ? 0 : "kmgtp".indexOf(Character.toLowerCase(m.group(2).charAt(0))) + 1;
    BigDecimal bytes =
        new BigDecimal(m.group(1)).multiply(new BigDecimal(BigInteger.valueOf(1024).pow(power)));
    BigDecimal whole = bytes.stripTrailingZeros();
    if (whole.scale() > 0) {
      throw invalid(trimmed, "it is not a whole number of bytes");
    }
    try {
      return whole.longValueExact();
    } catch (ArithmeticException e) {
      throw invalid(trimmed, "it is too large");
    }
  }

  private static IllegalArgumentException invalid(String text, String why) {
    return new IllegalArgumentException(
        "invalid size '"
            + text
            + "'"
            + (why == null ? "" : " (" + why + ")")
            + ": expected a number of bytes with an optional unit K, M, G, T or P"
            + " (powers of 1024), e.g. 8M, 8MiB, 512k or 1g");
  }
}
