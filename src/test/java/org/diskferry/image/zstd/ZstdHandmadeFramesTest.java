package org.diskferry.image.zstd;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Frames written byte by byte for the parts of the format the zstd command rarely produces: RLE
 * literals, RLE sequence tables, directly stored Huffman weights, treeless literals in a later
 * block, raw and RLE blocks. Needs no tools.
 */
class ZstdHandmadeFramesTest {
  private static final int[] MAGIC = {0x28, 0xb5, 0x2f, 0xfd};

  private static byte[] bytes(int... v) {
    byte[] b = new byte[MAGIC.length + v.length];
    for (int i = 0; i < MAGIC.length; i++) {
      b[i] = (byte) MAGIC[i];
    }
    for (int i = 0; i < v.length; i++) {
      b[MAGIC.length + i] = (byte) v[i];
    }
    return b;
  }

  private static byte[] decode(byte[] z, int max) throws ZstdException {
    byte[] out = new byte[max];
    int n = ZstdDecompressor.decompress(z, 0, z.length, out, 0, max);
    return Arrays.copyOf(out, n);
  }

  private static byte[] ascii(String s) {
    return s.getBytes(StandardCharsets.US_ASCII);
  }

  @Test
  void rawAndRleBlocks() throws Exception {
    // single segment, content size 7; raw block "hi", last RLE block of 5 'z'
    byte[] z = bytes(0x20, 7, 0x10, 0, 0, 'h', 'i', 0x2b, 0, 0, 'z');
    assertThat(decode(z, 100)).isEqualTo(ascii("hizzzzz"));
  }

  @Test
  void rleLiteralsWithoutSequences() throws Exception {
    // compressed block of 3 bytes: RLE literals, 20 times 'x'; no sequences
    byte[] z = bytes(0x20, 20, 0x1d, 0, 0, 20 << 3 | 1, 'x', 0);
    assertThat(decode(z, 100)).isEqualTo(ascii("x".repeat(20)));
  }

  @Test
  void rleSequenceTables() throws Exception {
    // raw literals "abc"; one sequence with all three tables in RLE mode: literal length code 3,
    // offset code 2 (2 extra bits: 2, so offset value 6, offset 3), match length code 7 (10)
    byte[] z = bytes(0x20, 13, 0x55, 0, 0,
        3 << 3, 'a', 'b', 'c', // literals
        1, 0x54, 3, 2, 7, // one sequence, RLE modes and their symbols
        0b110); // end mark, then the offset's extra bits 10
    assertThat(decode(z, 100)).isEqualTo(ascii("abcabcabcabca"));
  }

  @Test
  void directHuffmanWeightsThenTreelessLiterals() throws Exception {
    // weights 2 and 1 for bytes 0 and 1, the last (byte 2) implied 1: codes 1, 00 and 01;
    // literals 0 1 2 0 0 are the bits 1 00 01 1 1 below the end mark: 0xc7
    byte[] z = bytes(0x20, 10,
        0x3c, 0, 0, // compressed block of 7 bytes
        0x52, 0xc0, 0x00, 0x81, 0x21, 0xc7, 0, // 1 stream, 5 literals, 3 bytes; no sequences
        0x2d, 0, 0, // last compressed block of 5 bytes
        0x53, 0x40, 0x00, 0xc7, 0); // treeless, 5 literals, 1 byte
    assertThat(decode(z, 100)).containsExactly(0, 1, 2, 0, 0, 0, 1, 2, 0, 0);
  }

  @Test
  void treelessLiteralsNeedAPreviousTable() {
    byte[] z = bytes(0x20, 5, 0x2d, 0, 0, 0x53, 0x40, 0x00, 0xc7, 0);
    assertThatThrownBy(() -> decode(z, 100))
        .isInstanceOf(ZstdException.class)
        .hasMessageContaining("treeless");
  }

  @Test
  void repeatedTablesNeedPreviousOnes() {
    byte[] z = bytes(0x20, 13, 0x3d, 0, 0, 3 << 3, 'a', 'b', 'c', 1, 0xfc, 0b110);
    assertThatThrownBy(() -> decode(z, 100))
        .isInstanceOf(ZstdException.class)
        .hasMessageContaining("repeated without a previous");
  }

  @Test
  void matchBeforeTheFrameStartIsRefused() {
    // as rleSequenceTables, with offset code 3 and extra bits 110: offset value 14, offset 11
    byte[] z = bytes(0x20, 13, 0x55, 0, 0, 3 << 3, 'a', 'b', 'c', 1, 0x54, 3, 3, 7, 0b1110);
    assertThatThrownBy(() -> decode(z, 100))
        .isInstanceOf(ZstdException.class)
        .hasMessageContaining("before the start of the frame");
  }

  @Test
  void reservedBlockTypeAndEmptyOrForeignInput() throws Exception {
    assertThatThrownBy(() -> decode(bytes(0x20, 1, 0x07, 0, 0), 10))
        .isInstanceOf(ZstdException.class)
        .hasMessageContaining("reserved block type");
    assertThat(decode(new byte[0], 10)).isEmpty();
    assertThatThrownBy(() -> decode(ascii("not zstd at all"), 10))
        .isInstanceOf(ZstdException.class)
        .hasMessageContaining("not a zstd frame");
    // an empty frame (no content size, one empty last raw block)
    assertThat(decode(bytes(0x00, 0x00, 0x01, 0, 0), 10)).isEmpty();
  }
}
