package org.diskferry.image;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import org.diskferry.error.DiskferryException;

/**
 * Finds out the format of a local image and whether diskferry can upload it.
 *
 * <p>Accepted: raw, ISO (a raw image with an ISO 9660 volume descriptor) and qcow2 v2/v3 that
 * stand alone (no backing file, no external data file), are not encrypted, not marked corrupt and
 * use deflate compression. Anything else is a {@link DiskferryException.Kind#BAD_INPUT} with a
 * one-line message that says what to do, usually a {@code qemu-img convert} command line.
 */
public final class ImageInspector {
  private ImageInspector() {}

  /** Largest L1 table QEMU itself accepts (32 MiB). */
  static final long MAX_L1_BYTES = 32L << 20;

  private static final Pattern SHELL_SAFE = Pattern.compile("[A-Za-z0-9_./:=,+@%-]+");

  /**
   * Inspects {@code path}.
   *
   * @throws DiskferryException BAD_INPUT if the file is missing, unreadable, or in a format or
   *     configuration that cannot be uploaded
   */
  public static ImageInfo inspect(Path path) {
    checkRegularFile(path);
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      return inspect(path, ch);
    } catch (IOException e) {
      throw unreadable(path, e);
    }
  }

  /**
   * The format of any image file, by its magic numbers alone, named as qemu-img names it: {@code
   * qcow2}, {@code raw}, {@code iso}, {@code vmdk}, {@code vdi}, {@code vhdx}, {@code vpc}, {@code
   * qed}, {@code parallels}, {@code luks}, {@code bochs}, {@code dmg}, {@code qcow}, or the
   * compressor ({@code xz}, {@code zstd}, {@code bzip2}, {@code gzip}) of a compressed file. For
   * platforms that store image files as they are (Glance) rather than reading them.
   *
   * @throws DiskferryException BAD_INPUT if the file is missing or unreadable
   */
  public static String identify(Path path) {
    checkRegularFile(path);
    try (FileChannel ch = FileChannel.open(path, StandardOpenOption.READ)) {
      long fileSize = ch.size();
      ByteBuffer head = ByteBuffer.allocate((int) Math.min(fileSize, 0x8006));
      Qcow2Header.readFully(ch, head, 0, head.capacity());
      ByteBuffer tail = ByteBuffer.allocate((int) Math.min(fileSize, 512));
      Qcow2Header.readFully(ch, tail, fileSize - tail.capacity(), tail.capacity());
      if (startsWith(head, 0, "QFI\u00fb")) {
        return head.capacity() >= 8 && head.getInt(4) == 1 ? "qcow" : "qcow2";
      }
      String other = otherFormat(head, tail, fileSize);
      if (other != null) {
        return other.startsWith("compressed with ")
            ? other.substring("compressed with ".length())
            : other.substring(other.lastIndexOf('(') + 1, other.length() - 1);
      }
      if (head.capacity() >= 0x8006 && startsWith(head, 0x8001, "CD001")) {
        return "iso";
      }
      return "raw";
    } catch (IOException e) {
      throw unreadable(path, e);
    }
  }

  /**
   * Inspects the source of an upload: {@link #inspect}, then {@link #checkSource}; an image whose
   * virtual size is 0 is refused too.
   *
   * @param rawStated the user said the file is raw (the check of its name is skipped)
   * @param rawHint how to say so, for the message, e.g. "upload it with --format raw"
   */
  public static ImageInfo inspectUpload(Path path, boolean rawStated, String rawHint) {
    ImageInfo info = inspect(path);
    checkSource(path, info.format() == ImageFormat.QCOW2 ? "qcow2" : "raw", rawStated, rawHint);
    if (info.virtualSize() == 0) {
      throw DiskferryException.badInput(
          path + " is a qcow2 image of virtual size 0; there is nothing to upload");
    }
    return info;
  }

  /**
   * Refuses what no upload should take, whatever the platform: an empty file, and a file named
   * like a disk image format ({@code .qcow2}, {@code .vmdk}, ...) whose contents are raw: its
   * header is damaged or it is not what its name says, and uploading it as raw would turn a broken
   * image into a disk of garbage without a word.
   *
   * @param content the format found in the file, as {@link #identify} names it
   * @param rawStated the user said the file is raw (the check of its name is skipped)
   * @param rawHint how to say so, for the message, e.g. "upload it with --format raw"
   */
  public static void checkSource(Path path, String content, boolean rawStated, String rawHint) {
    long size;
    try {
      size = Files.size(path);
    } catch (IOException e) {
      throw unreadable(path, e);
    }
    if (size == 0) {
      throw DiskferryException.badInput(path + " is empty (0 bytes); there is nothing to upload");
    }
    String named = formatByName(path);
    if (!rawStated && named != null && (content.equals("raw") || content.equals("iso"))) {
      throw DiskferryException.badInput(
          path + " is named like a " + named + " image but has no " + named + " header: it is"
              + " damaged or not " + named + " at all (see: qemu-img info " + shellQuote(
                  path.toString()) + "); if it really is a raw image, " + rawHint);
    }
  }

  /** The format a file name promises by its extension (qemu-img's names), or null. */
  static String formatByName(Path path) {
    String file = path.getFileName() == null ? "" : path.getFileName().toString();
    int dot = file.lastIndexOf('.');
    if (dot < 0) {
      return null;
    }
    return switch (file.substring(dot + 1).toLowerCase(java.util.Locale.ROOT)) {
      case "qcow2" -> "qcow2";
      case "qcow" -> "qcow";
      case "vmdk" -> "vmdk";
      case "vdi" -> "vdi";
      case "vhd", "vpc" -> "vhd";
      case "vhdx" -> "vhdx";
      case "qed" -> "qed";
      default -> null;
    };
  }

  /** BAD_INPUT for a file that cannot be opened or read, saying why in one line. */
  private static DiskferryException unreadable(Path path, IOException e) {
    if (e instanceof NoSuchFileException) {
      return DiskferryException.badInput(path + ": no such file");
    }
    if (e instanceof AccessDeniedException) {
      return DiskferryException.badInput(path + ": permission denied");
    }
    return new DiskferryException(
        DiskferryException.Kind.BAD_INPUT, path + ": cannot read: " + e.getMessage(), e);
  }

  /** Why a symbolic link leads nowhere: a loop, or a missing target. */
  static String brokenLink(Path link) {
    try {
      link.toRealPath();
      return "no such file";
    } catch (java.nio.file.FileSystemException e) {
      String reason = e.getReason() == null ? "" : e.getReason();
      if (reason.toLowerCase(java.util.Locale.ROOT).contains("symbolic links")) {
        return "a loop of symbolic links";
      }
      try {
        return "a symbolic link to " + Files.readSymbolicLink(link) + ", which does not exist";
      } catch (IOException ignored) {
        return "no such file";
      }
    } catch (IOException e) {
      return "no such file";
    }
  }

  private static void checkRegularFile(Path path) {
    if (Files.isDirectory(path)) {
      throw DiskferryException.badInput(path + " is a directory, not a disk image");
    }
    if (!Files.exists(path)) {
      if (Files.isSymbolicLink(path)) {
        throw DiskferryException.badInput(path + ": " + brokenLink(path));
      }
      throw DiskferryException.badInput(path + ": no such file");
    }
    if (!Files.isRegularFile(path)) {
      throw DiskferryException.badInput(
          path + " is not a regular file; diskferry reads disk images from regular files");
    }
  }

  private static ImageInfo inspect(Path path, FileChannel ch) throws IOException {
    long fileSize = ch.size();
    ByteBuffer head = ByteBuffer.allocate((int) Math.min(fileSize, 0x8006));
    Qcow2Header.readFully(ch, head, 0, head.capacity());
    ByteBuffer tail = ByteBuffer.allocate((int) Math.min(fileSize, 512));
    Qcow2Header.readFully(ch, tail, fileSize - tail.capacity(), tail.capacity());

    if (startsWith(head, 0, "QFI\u00fb")) {
      int version = head.capacity() >= 8 ? head.getInt(4) : 0;
      if (version == 1) {
        throw unsupported(path, "a qcow (version 1) image", "qcow", "qcow2");
      }
      if (version != 2 && version != 3) {
        throw unsupported(path, "a qcow2 image of unknown version " + version, "qcow2", "raw");
      }
      Qcow2Header h;
      try {
        h = Qcow2Header.read(ch);
      } catch (IOException e) {
        throw DiskferryException.badInput(
            path + " looks like qcow2 but its header cannot be read (" + e.getMessage() + ")");
      }
      check(path, ch, h, fileSize);
      Qcow2Bounds.check(path, ch, h, fileSize);
      return new ImageInfo(path, ImageFormat.QCOW2, h.size(), fileSize, h);
    }
    String other = otherFormat(head, tail, fileSize);
    if (other != null) {
      String target = other.startsWith("compressed") ? null : "qcow2";
      if (target == null) {
        throw DiskferryException.badInput(
            path + " is " + other + ", not a disk image; decompress it first");
      }
      String driver = other.substring(other.lastIndexOf('(') + 1, other.length() - 1);
      throw unsupported(path, other, driver, target);
    }
    if (head.capacity() >= 0x8006 && startsWith(head, 0x8001, "CD001")) {
      return new ImageInfo(path, ImageFormat.ISO, fileSize, fileSize, null);
    }
    return new ImageInfo(path, ImageFormat.RAW, fileSize, fileSize, null);
  }

  /** A name like "a VMDK image (vmdk)" for formats diskferry recognises but does not read. */
  private static String otherFormat(ByteBuffer head, ByteBuffer tail, long fileSize) {
    if (startsWith(head, 0, "KDMV")
        || startsWith(head, 0, "COWD")
        || startsWith(head, 0, "# Disk DescriptorFile")) {
      return "a VMDK image (vmdk)";
    }
    if (head.capacity() >= 0x44 && head.getInt(0x40) == 0x7f10dabe) {
      return "a VirtualBox VDI image (vdi)";
    }
    if (startsWith(head, 0, "vhdxfile")) {
      return "a VHDX image (vhdx)";
    }
    if (startsWith(head, 0, "conectix") || startsWith(tail, 0, "conectix")) {
      return "a VHD (Virtual PC) image (vpc)";
    }
    if (startsWith(head, 0, "QED\0")) {
      return "a QED image (qed)";
    }
    if (startsWith(head, 0, "WithoutFreeSpace") || startsWith(head, 0, "WithouFreSpacExt")) {
      return "a Parallels image (parallels)";
    }
    if (startsWith(head, 0, "LUKS\u00ba\u00be")) {
      return "a LUKS-encrypted volume (luks)";
    }
    if (startsWith(head, 0, "Bochs Virtual HD Image")) {
      return "a Bochs image (bochs)";
    }
    if (fileSize >= 512 && startsWith(tail, 0, "koly")) {
      return "an Apple disk image (dmg)";
    }
    if (startsWith(head, 0, "\u00fd7zXZ\0")) {
      return "compressed with xz";
    }
    if (startsWith(head, 0, "\u0028\u00b5\u002f\u00fd")) {
      return "compressed with zstd";
    }
    if (startsWith(head, 0, "BZh") && startsWith(head, 4, "1AY&SY")) {
      return "compressed with bzip2";
    }
    if (startsWith(head, 0, "\u001f\u008b\u0008") && head.capacity() >= 4
        && (head.get(3) & 0xe0) == 0) {
      return "compressed with gzip";
    }
    return null;
  }

  /** Rejects what cannot be uploaded; shared with {@link Qcow2Reader}. */
  static void check(Path path, FileChannel ch, Qcow2Header h, long fileSize) {
    String src = shellQuote(path.toString());
    String dst = shellQuote(siblingName(path, "qcow2"));
    if (h.crypt() != 0) {
      String how = h.crypt() == 2 ? "LUKS" : h.crypt() == 1 ? "AES" : "method " + h.crypt();
      throw DiskferryException.badInput(
          path + " is an encrypted qcow2 image (" + how + "), which cannot be uploaded; decrypt it"
              + " first: qemu-img convert --object secret,id=sec0,file=KEYFILE --image-opts"
              + " driver=qcow2,file.filename=" + src + ",encrypt.key-secret=sec0 -O qcow2 " + dst);
    }
    if (h.corrupt()) {
      throw DiskferryException.badInput(
          path + " is marked corrupt by QEMU; check and repair a copy first: qemu-img check -r all "
              + src);
    }
    if (h.backingFile() != null) {
      throw DiskferryException.badInput(
          path + " has a backing file " + h.backingFile() + "; flatten it first: qemu-img convert"
              + " -O qcow2 " + src + " " + dst);
    }
    if (h.externalDataFile()) {
      throw DiskferryException.badInput(
          path + " keeps its data in an external data file; convert it into a self-contained"
              + " image first: qemu-img convert -O qcow2 " + src + " " + dst);
    }
    long unknown = h.incompatibleFeatures() & ~Qcow2Header.INCOMPAT_KNOWN;
    if (unknown != 0) {
      Map<Integer, String> names = Qcow2Header.incompatibleFeatureNames(ch, h);
      List<String> list = new ArrayList<>();
      for (int bit = 0; bit < 64; bit++) {
        if ((unknown & (1L << bit)) != 0) {
          String n = names.get(bit);
          list.add(n == null ? "bit " + bit : n + " (bit " + bit + ")");
        }
      }
      throw DiskferryException.badInput(
          path + " uses qcow2 features diskferry does not know: " + String.join(", ", list)
              + "; convert it first: qemu-img convert -O qcow2 " + src + " " + dst);
    }
    if (h.compressionType() != Qcow2Header.COMPRESSION_DEFLATE
        && h.compressionType() != Qcow2Header.COMPRESSION_ZSTD) {
      throw DiskferryException.badInput(
          path + " uses unknown qcow2 compression type " + h.compressionType()
              + "; convert it first: qemu-img convert -O qcow2 " + src + " " + dst);
    }
    if (h.clusterBits() < 9 || h.clusterBits() > 21) {
      throw damaged(path, "cluster_bits " + h.clusterBits() + " is out of range 9..21");
    }
    if (h.size() < 0) {
      throw damaged(path, "negative virtual size");
    }
    int l2Bits = h.clusterBits() - (h.extendedL2() ? 4 : 3);
    int shift = h.clusterBits() + l2Bits;
    long needed = shift >= 63 ? 1 : (h.size() + (1L << shift) - 1) >>> shift;
    if ((h.l1Size() & 0xffffffffL) < needed) {
      throw damaged(path, "L1 table has " + h.l1Size() + " entries, " + needed + " needed");
    }
    if ((h.l1Size() & 0xffffffffL) * 8 > MAX_L1_BYTES) {
      throw damaged(path, "L1 table too large (" + h.l1Size() + " entries)");
    }
    if (h.l1Size() > 0
        && (h.l1TableOffset() <= 0
            || (h.l1TableOffset() & (h.clusterSize() - 1)) != 0
            || h.l1TableOffset() + 8L * h.l1Size() > fileSize)) {
      throw damaged(path, "L1 table offset " + h.l1TableOffset() + " is invalid");
    }
  }

  static DiskferryException damaged(Path path, String what) {
    return DiskferryException.badInput(
        path + " is a damaged qcow2 image (" + what + "); check it with: qemu-img check "
            + shellQuote(path.toString()));
  }

  private static DiskferryException unsupported(
      Path path, String what, String driver, String target) {
    return DiskferryException.badInput(
        path + " is " + what + ", which diskferry cannot upload (raw, qcow2 and ISO only);"
            + " convert it with: qemu-img convert -f " + driver + " -O " + target + " "
            + shellQuote(path.toString()) + " " + shellQuote(siblingName(path, target)));
  }

  /** {@code dir/name.ext} → {@code dir/name.NEWEXT} (or name.converted.NEWEXT if equal). */
  static String siblingName(Path path, String ext) {
    String file = path.getFileName() == null ? "image" : path.getFileName().toString();
    int dot = file.lastIndexOf('.');
    String base = dot > 0 ? file.substring(0, dot) : file;
    String name = base + "." + ext;
    if (name.equals(file)) {
      name = base + ".converted." + ext;
    }
    Path parent = path.getParent();
    return parent == null ? name : parent.resolve(name).toString();
  }

  static String shellQuote(String s) {
    if (!s.isEmpty() && SHELL_SAFE.matcher(s).matches()) {
      return s;
    }
    return "'" + s.replace("'", "'\\''") + "'";
  }

  private static boolean startsWith(ByteBuffer b, int at, String magic) {
    byte[] m = magic.getBytes(StandardCharsets.ISO_8859_1);
    if (b.capacity() < at + m.length) {
      return false;
    }
    for (int i = 0; i < m.length; i++) {
      if (b.get(at + i) != m[i]) {
        return false;
      }
    }
    return true;
  }
}
