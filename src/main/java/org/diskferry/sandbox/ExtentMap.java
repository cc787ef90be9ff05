package org.diskferry.sandbox;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * A set of non-overlapping byte ranges, each tagged with a kind (a small positive int). Ranges not
 * in the map have kind 0. Adjacent ranges of the same kind are merged. Thread-safe.
 */
final class ExtentMap {
  static final int NONE = 0;
  static final int DATA = 1;
  static final int ZERO = 2;

  /** start -> {end, kind}. */
  private final TreeMap<Long, long[]> map = new TreeMap<>();

  /** Sets [start, end) to kind; kind 0 clears the range. */
  synchronized void set(long start, long end, int kind) {
    if (start >= end) {
      return;
    }
    split(start);
    split(end);
    map.subMap(start, true, end, false).clear();
    if (kind == NONE) {
      return;
    }
    long s = start;
    long e = end;
    Map.Entry<Long, long[]> lower = map.lowerEntry(s);
    if (lower != null && lower.getValue()[0] == s && lower.getValue()[1] == kind) {
      s = lower.getKey();
      map.remove(s);
    }
    long[] next = map.get(e);
    if (next != null && next[1] == kind) {
      map.remove(e);
      e = next[0];
    }
    map.put(s, new long[] {e, kind});
  }

  private void split(long p) {
    Map.Entry<Long, long[]> e = map.lowerEntry(p);
    if (e != null && e.getValue()[0] > p) {
      long end = e.getValue()[0];
      long kind = e.getValue()[1];
      map.put(e.getKey(), new long[] {p, kind});
      map.put(p, new long[] {end, kind});
    }
  }

  /** Total length of ranges of this kind. */
  synchronized long total(int kind) {
    long t = 0;
    for (Map.Entry<Long, long[]> e : map.entrySet()) {
      if (e.getValue()[1] == kind) {
        t += e.getValue()[0] - e.getKey();
      }
    }
    return t;
  }

  /** A copy of the ranges as {start, end, kind}, in order. */
  synchronized List<long[]> segments() {
    List<long[]> out = new ArrayList<>(map.size());
    for (Map.Entry<Long, long[]> e : map.entrySet()) {
      out.add(new long[] {e.getKey(), e.getValue()[0], e.getValue()[1]});
    }
    return out;
  }

  /** The ranges of one kind that intersect [start, end), clipped to it. */
  synchronized List<long[]> segments(long start, long end, int kind) {
    List<long[]> out = new ArrayList<>();
    Long from = map.floorKey(start);
    for (Map.Entry<Long, long[]> e : map.tailMap(from == null ? start : from, true).entrySet()) {
      long s = e.getKey();
      if (s >= end) {
        break;
      }
      long[] v = e.getValue();
      if (v[1] != kind || v[0] <= start) {
        continue;
      }
      out.add(new long[] {Math.max(s, start), Math.min(v[0], end)});
    }
    return out;
  }

  synchronized void clear() {
    map.clear();
  }
}
