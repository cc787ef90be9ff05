package org.diskferry.transfer;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import org.diskferry.error.DiskferryException;

/** Checks of the local side of a transfer, made before anything is created on the server. */
public final class LocalImage {

  private static final byte[] QCOW2_MAGIC = {'Q', 'F', 'I', (byte) 0xfb};

  private LocalImage() {}

  /** Checks an upload source and returns its size. */
  public static long checkSource(Path src) {
    if (!Files.exists(src)) {
      throw DiskferryException.badInput(src + ": no such file");
    }
    if (Files.isDirectory(src)) {
      throw DiskferryException.badInput(src + " is a directory, not a disk image");
    }
    if (!Files.isRegularFile(src)) {
      throw DiskferryException.badInput(src + " is not a regular file");
    }
    try (FileChannel ch = FileChannel.open(src, StandardOpenOption.READ)) {
      ByteBuffer head = ByteBuffer.allocate(4);
      ch.read(head, 0);
      if (head.position() == 4 && java.util.Arrays.equals(head.array(), QCOW2_MAGIC)) {
        throw DiskferryException.badInput(
            src
                + " is a qcow2 image; this version uploads raw images only: convert it with"
                + " 'qemu-img convert -O raw "
                + src.getFileName()
                + " disk.raw'");
      }
      long size = ch.size();
      if (size == 0) {
        throw DiskferryException.badInput(src + " is empty");
      }
      return size;
    } catch (AccessDeniedException e) {
      throw DiskferryException.badInput(src + ": permission denied");
    } catch (NoSuchFileException e) {
      throw DiskferryException.badInput(src + ": no such file");
    } catch (IOException e) {
      throw DiskferryException.badInput("cannot read " + src + ": " + e.getMessage());
    }
  }

  public static void checkTarget(Path target, boolean force) {
    if (Files.isDirectory(target)) {
      throw DiskferryException.badInput(target + " is a directory; give a file name");
    }
    if (Files.exists(target) && !force) {
      throw DiskferryException.badInput(target + " already exists; use --force to overwrite it");
    }
    Path dir = target.getParent();
    if (dir != null && !Files.isDirectory(dir)) {
      throw DiskferryException.badInput(dir + ": no such directory");
    }
    if (dir != null && !Files.isWritable(dir)) {
      throw DiskferryException.badInput(dir + ": permission denied");
    }
  }

}
