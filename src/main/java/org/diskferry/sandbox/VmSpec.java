package org.diskferry.sandbox;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.diskferry.cli.progress.ByteSizes;

/**
 * A virtual machine the sandbox creates at start: {@code NAME:SIZE[,SIZE…]} gives a running VM
 * with one thin qcow2 disk (enabled for incremental backup) per size; {@code NAME:raw:SIZE…}
 * raw disks instead; {@code NAME:down:SIZE…} a VM that is down (both words may be combined).
 *
 * @param name the VM's name; its disks are named NAME-disk1, NAME-disk2, …
 * @param up whether the VM is running
 * @param disks the disks, in attachment order
 */
public record VmSpec(String name, boolean up, List<DiskSpec> disks) {

  /** The usage line, as {@code diskferry sandbox --help} shows it. */
  public static final String SYNTAX = "NAME[:raw][:down]:SIZE[,SIZE...]";

  /**
   * One disk of the VM.
   *
   * @param format {@code cow} (qcow2) or {@code raw}
   * @param size the virtual size in bytes
   */
  public record DiskSpec(String format, long size) {
    public DiskSpec {
      if (!format.equals("cow") && !format.equals("raw")) {
        throw new IllegalArgumentException("disk format must be cow or raw: " + format);
      }
      if (size <= 0) {
        throw new IllegalArgumentException("disk size must be greater than zero");
      }
    }
  }

  public VmSpec {
    Objects.requireNonNull(name, "name");
    disks = List.copyOf(disks);
    if (disks.isEmpty()) {
      throw new IllegalArgumentException("a VM needs at least one disk");
    }
  }

  /** Parses {@code NAME[:raw][:down]:SIZE[,SIZE…]}; sizes take K, M, G, T suffixes (powers of 1024). */
  public static VmSpec parse(String text) {
    String[] parts = text.split(":", -1);
    if (parts.length < 2) {
      throw new IllegalArgumentException("'" + text + "': expected " + SYNTAX);
    }
    String name = parts[0];
    if (!name.matches("[A-Za-z0-9][A-Za-z0-9._-]{0,63}")) {
      throw new IllegalArgumentException("'" + text + "': a VM name is 1 to 64 letters, digits,"
          + " '.', '_' or '-', starting with a letter or digit");
    }
    boolean raw = false;
    boolean up = true;
    for (int i = 1; i < parts.length - 1; i++) {
      switch (parts[i].toLowerCase(Locale.ROOT)) {
        case "raw":
          raw = true;
          break;
        case "down":
          up = false;
          break;
        default:
          throw new IllegalArgumentException("'" + text + "': unknown word '" + parts[i]
              + "' (raw or down), expected " + SYNTAX);
      }
    }
    List<DiskSpec> disks = new ArrayList<>();
    for (String size : parts[parts.length - 1].split(",", -1)) {
      long bytes;
      try {
        bytes = ByteSizes.parse(size);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("'" + text + "': " + e.getMessage());
      }
      if (bytes <= 0 || bytes % 512 != 0) {
        throw new IllegalArgumentException("'" + text + "': a disk size must be a positive multiple"
            + " of 512 bytes, not '" + size + "'");
      }
      disks.add(new DiskSpec(raw ? "raw" : "cow", bytes));
    }
    return new VmSpec(name, up, disks);
  }
}
