package org.diskferry.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import org.diskferry.error.DiskferryException;

/**
 * Checks that everything a qcow2 image's tables point at lies inside the file: every L2 table, every
 * data cluster (normal, compressed or preallocated zero), the refcount table and its refcount
 * blocks. A truncated or damaged image fails here, before anything is created on a server, instead
 * of reading as zeros where its data should be.
 *
 * <p>Only metadata is read: the L1 table, each L2 table once (one cluster each, about 1/8192 of the
 * data they map with 64 KiB clusters) and the refcount table. The rule for clusters is QEMU's
 * ({@code qemu-img check}: "region exceeding the end of the file by one cluster or more"): a cluster
 * must start inside the file, the last one may be cut short (it reads as zeros there, as QEMU
 * reads it). An L2 table, which diskferry reads whole, must lie wholly inside the file.
 */
final class Qcow2Bounds {
  private Qcow2Bounds() {}

  private static final long L1_OFFSET_MASK = 0x00fffffffffffe00L;
  private static final long L2_OFFSET_MASK = 0x00fffffffffffe00L;
  private static final long REFT_OFFSET_MASK = 0xfffffffffffffe00L;
  private static final long COMPRESSED = 1L << 62;
  /** Largest refcount table QEMU accepts (8 MiB). */
  private static final long MAX_REFCOUNT_TABLE_BYTES = 8L << 20;

  /** BAD_INPUT naming the first table or cluster that lies outside {@code ch}'s file. */
  static void check(Path path, FileChannel ch, Qcow2Header h, long fileSize) throws IOException {
    new Walk(path, ch, h, fileSize).run();
  }

  private static final class Walk {
    private final Path path;
    private final FileChannel ch;
    private final Qcow2Header h;
    private final long fileSize;
    private final long clusterSize;
    private final int entryWords;
    private final int l2Entries;

    Walk(Path path, FileChannel ch, Qcow2Header h, long fileSize) {
      this.path = path;
      this.ch = ch;
      this.h = h;
      this.fileSize = fileSize;
      this.clusterSize = h.clusterSize();
      this.entryWords = h.extendedL2() ? 2 : 1;
      this.l2Entries = (int) (clusterSize / (8L * entryWords));
    }

    void run() throws IOException {
      checkRefcounts();
      int l1Size = h.l1Size();
      if (l1Size <= 0) {
        return;
      }
      ByteBuffer l1 = ByteBuffer.allocate(l1Size * 8);
      Qcow2Header.readFully(ch, l1, h.l1TableOffset(), l1.capacity());
      ByteBuffer l2 = ByteBuffer.allocate((int) clusterSize);
      long l1Span = (long) l2Entries * clusterSize;
      for (int i = 0; i < l1Size; i++) {
        long offset = l1.getLong(i * 8) & L1_OFFSET_MASK;
        if (offset == 0) {
          continue;
        }
        long guest = i * l1Span;
        if ((offset & (clusterSize - 1)) != 0) {
          throw damaged("the L2 table for guest offset " + guest + " is at unaligned offset "
              + offset);
        }
        if (offset + clusterSize > fileSize) {
          throw beyond("the L2 table for guest offset " + guest, offset);
        }
        Qcow2Header.readFully(ch, l2, offset, l2.capacity());
        checkL2(l2, guest);
      }
    }

    private void checkL2(ByteBuffer l2, long guestBase) {
      for (int j = 0; j < l2Entries; j++) {
        long entry = l2.getLong(j * 8 * entryWords);
        long guest = guestBase + j * clusterSize;
        if ((entry & COMPRESSED) != 0) {
          int x = 62 - (h.clusterBits() - 8);
          long host = entry & ((1L << x) - 1);
          if (host == 0) {
            throw damaged("the compressed cluster at guest offset " + guest + " has offset 0");
          }
          if (host >= fileSize) {
            throw beyond("the compressed cluster at guest offset " + guest, host);
          }
          continue;
        }
        long host = entry & L2_OFFSET_MASK;
        if (host == 0) {
          continue;
        }
        if ((host & (clusterSize - 1)) != 0) {
          throw damaged("the cluster at guest offset " + guest + " is at unaligned offset " + host);
        }
        if (host >= fileSize) {
          throw beyond("the data cluster at guest offset " + guest, host);
        }
      }
    }

    private void checkRefcounts() throws IOException {
      ByteBuffer b = ByteBuffer.allocate(4);
      Qcow2Header.readFully(ch, b, 56, 4);
      long clusters = b.getInt(0) & 0xffffffffL;
      long offset = h.refcountTableOffset();
      long bytes = clusters * clusterSize;
      if (clusters == 0 || bytes > MAX_REFCOUNT_TABLE_BYTES) {
        throw damaged("refcount table of " + clusters + " clusters");
      }
      if (offset <= 0 || (offset & (clusterSize - 1)) != 0) {
        throw damaged("refcount table at invalid offset " + offset);
      }
      if (offset >= fileSize) {
        throw beyond("the refcount table", offset);
      }
      // A refcount table may end in clusters never written (QEMU grows it ahead of use).
      int readable = (int) Math.min(bytes, fileSize - offset) & ~7;
      ByteBuffer table = ByteBuffer.allocate(readable);
      Qcow2Header.readFully(ch, table, offset, readable);
      for (int i = 0; i < readable / 8; i++) {
        long block = table.getLong(i * 8) & REFT_OFFSET_MASK;
        if (block != 0 && block >= fileSize) {
          throw beyond("refcount block " + i, block);
        }
      }
    }

    private DiskferryException beyond(String what, long offset) {
      return damaged(what + " is at offset " + offset + ", beyond the end of the file ("
          + fileSize + " bytes): the file is truncated or its tables are broken");
    }

    private DiskferryException damaged(String what) {
      return ImageInspector.damaged(path, what);
    }
  }
}
