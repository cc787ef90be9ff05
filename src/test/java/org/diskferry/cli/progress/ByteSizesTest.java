package org.diskferry.cli.progress;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ByteSizesTest {

  @ParameterizedTest
  @CsvSource({
    "0, 0 B",
    "512, 512 B",
    "1023, 1023 B",
    "1024, 1.00 KiB",
    "1536, 1.50 KiB",
    "1048575, 1.00 MiB",
    "1610612736, 1.50 GiB",
    "4294967296, 4.00 GiB",
    "1099511627776, 1.00 TiB",
    "-2048, -2.00 KiB"
  })
  void formats(long bytes, String text) {
    assertThat(ByteSizes.format(bytes)).isEqualTo(text);
  }

  @ParameterizedTest
  @CsvSource({"0, 0 B/s", "100, 100 B/s", "537214976, 512.3 MiB/s", "1073741824, 1.0 GiB/s"})
  void formatsRates(double rate, String text) {
    assertThat(ByteSizes.formatRate(rate)).isEqualTo(text);
  }

  @ParameterizedTest
  @CsvSource({
    "4096, 4096",
    "4096B, 4096",
    "8M, 8388608",
    "8m, 8388608",
    "8MiB, 8388608",
    "8mib, 8388608",
    "8MB, 8388608",
    "8 MiB, 8388608",
    "' 8M ', 8388608",
    "512k, 524288",
    "512K, 524288",
    "512KiB, 524288",
    "1g, 1073741824",
    "1G, 1073741824",
    "1.5G, 1610612736",
    "2T, 2199023255552",
    "1P, 1125899906842624",
    "0, 0"
  })
  void parses(String text, long bytes) {
    assertThat(ByteSizes.parse(text)).isEqualTo(bytes);
  }

  @ParameterizedTest
  @ValueSource(
      strings = {"", " ", "M", "8X", "8 MX", "-1", "8i", "1.5", "0.1k", "8M8", "abc", "8..M"})
  void rejectsBadText(String text) {
    assertThatThrownBy(() -> ByteSizes.parse(text))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("invalid size")
        .hasMessageContaining("e.g. 8M");
  }

  @ParameterizedTest
  @ValueSource(strings = {"8E", "99999999999P", "9223372036854775808"})
  void rejectsTooLarge(String text) {
    assertThatThrownBy(() -> ByteSizes.parse(text)).isInstanceOf(IllegalArgumentException.class);
  }

  @org.junit.jupiter.api.Test
  void rejectsNull() {
    assertThatThrownBy(() -> ByteSizes.parse(null)).isInstanceOf(IllegalArgumentException.class);
  }
}
