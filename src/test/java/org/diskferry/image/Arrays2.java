package org.diskferry.image;

final class Arrays2 {
  private Arrays2() {}

  static void fill(byte[] a, int from, int to, byte v) {
    java.util.Arrays.fill(a, from, to, v);
  }
}
