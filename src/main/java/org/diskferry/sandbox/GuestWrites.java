package org.diskferry.sandbox;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.diskferry.transfer.UncachedFile;

/**
 * The guest of a running VM writing to its disks, for tests and rehearsals of backups:
 * {@code PUT /sandbox/vms/VM_ID/disks/DISK_ID/guest} with {@code Content-Range: bytes
 * START-END/*} and the bytes as the body. The write lands in the disk as the guest's would and
 * marks the blocks it touches dirty in every bitmap of the disk (every checkpoint sees it). It is
 * accepted while a backup of the VM runs, as a live backup lets the guest run: the backup still
 * exposes the disk as it was when it started. Not part of the oVirt API.
 */
final class GuestWrites {
  static final String PREFIX = "/sandbox/";
  private static final Pattern PATH =
      Pattern.compile("/sandbox/vms/([^/]+)/disks/([^/]+)/guest/?");
  private static final Pattern CONTENT_RANGE = Pattern.compile("bytes (\\d{1,18})-(\\d{1,18})/(\\d+|\\*)");
  private static final int CHUNK = 1 << 20;

  private final Sandbox sb;

  GuestWrites(Sandbox sb) {
    this.sb = sb;
  }

  void handle(Exchange ex) throws IOException {
    Matcher p = PATH.matcher(ex.path());
    if (!p.matches()) {
      text(ex, 404, "No such sandbox resource: " + ex.path());
      return;
    }
    if (!ex.method().equals("PUT")) {
      text(ex, 405, "Method '" + ex.method() + "' not defined: guest writes are PUT");
      return;
    }
    long length = ex.contentLength();
    if (ex.chunked() || length < 0) {
      ex.closeAfter();
      text(ex, 400, "Content-Length header is required");
      return;
    }
    String cr = ex.header("content-range");
    Matcher m = cr == null ? null : CONTENT_RANGE.matcher(cr.trim());
    if (m == null || !m.matches()) {
      ex.closeAfter();
      text(ex, 400, "Content-Range: bytes START-END/* is required"
          + (cr == null ? "" : ", not '" + cr + "'"));
      return;
    }
    long start = Long.parseLong(m.group(1));
    long end = Long.parseLong(m.group(2));
    if (end < start || end - start + 1 != length) {
      ex.closeAfter();
      text(ex, 400, "Content-Range '" + cr + "' does not match Content-Length " + length);
      return;
    }
    Disk d;
    synchronized (sb.lock) {
      Vm vm = sb.vmBackups.vms.get(p.group(1));
      d = vm == null || !vm.diskIds.contains(p.group(2)) ? null : sb.disks.get(p.group(2));
      if (d == null) {
        ex.closeAfter();
        text(ex, 404, "No disk " + p.group(2) + " attached to a VM " + p.group(1));
        return;
      }
      if (!vm.up()) {
        ex.closeAfter();
        text(ex, 409, "VM " + vm.name + " is down: it has no guest to write");
        return;
      }
      if (start + length > d.provisionedSize) {
        ex.closeAfter();
        text(ex, 416, "Write beyond the end of the disk (" + d.provisionedSize + " bytes)");
        return;
      }
    }
    byte[] buf = new byte[(int) Math.min(CHUNK, Math.max(1, length))];
    long pos = start;
    long left = length;
    while (left > 0) {
      int want = (int) Math.min(buf.length, left);
      ex.readBodyFully(buf, want);
      int filled = want;
      synchronized (d.contentLock) { // one chunk at a time, as a guest's writes land
        UncachedFile file = d.file();
        file.write(buf, 0, filled, pos);
        d.extents.set(pos, pos + filled, ExtentMap.DATA);
        d.markDirty(pos, pos + filled);
      }
      pos += filled;
      left -= filled;
    }
    d.metaDirty = true;
    ex.send(200, new LinkedHashMap<>(), new byte[0]);
  }

  private static void text(Exchange ex, int status, String message) throws IOException {
    Map<String, String> h = new LinkedHashMap<>();
    h.put("content-type", "text/plain; charset=UTF-8");
    ex.send(status, h, (message + "\n").getBytes(StandardCharsets.UTF_8));
  }
}
