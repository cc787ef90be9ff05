package org.diskferry.glance;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.diskferry.error.DiskferryException;
import org.diskferry.image.ImageInspector;
import org.diskferry.image.SourceFile;
import org.diskferry.transfer.TransferInterruptedException;
import org.diskferry.transfer.TransferListener;

/**
 * Uploads a local file as a new Glance image: create the record, send the data (direct {@code PUT
 * /file}, or stage + {@code glance-direct} import), wait for {@code active}, compare checksums. A
 * failed or interrupted upload deletes the image unless asked to keep it.
 */
public final class GlanceUpload {

  /**
   * What to upload.
   *
   * @param file the local image
   * @param name the image name
   * @param diskFormat the disk_format, or null to detect it from the file
   * @param visibility public, community, shared, private, or null for Glance's default
   * @param properties extra image properties
   * @param useImport stage the data and import it with glance-direct
   * @param keepOnFailure leave the image behind when the upload fails
   * @param retries how often a failed data transfer is tried again
   * @param bufferSize bytes read and sent at a time
   */
  public record Spec(
      Path file,
      String name,
      String diskFormat,
      String visibility,
      Map<String, String> properties,
      boolean useImport,
      boolean keepOnFailure,
      int retries,
      int bufferSize) {}

  private final GlanceClient glance;
  private final TransferListener listener;
  private volatile boolean interrupted;
  private volatile String interruptReason;
  private final Duration activeTimeout = Duration.ofHours(2);

  public GlanceUpload(GlanceClient glance, TransferListener listener) {
    this.glance = glance;
    this.listener = listener;
  }

  /** Asks a running upload to stop: the data transfer is cut and the image deleted. */
  public void interrupt(String reason) {
    interruptReason = reason;
    interrupted = true;
    glance.cancel();
  }

  /**
   * The Glance disk_format of a file: detected from its contents, mapped from qemu-img's names.
   *
   * @throws DiskferryException BAD_INPUT for a format Glance does not take
   */
  public static String detectDiskFormat(Path file) {
    return glanceFormat(file, ImageInspector.identify(file));
  }

  /**
   * The disk_format to publish {@code file} with, after checking it as the oVirt path does: an
   * empty file, a damaged qcow2 (truncated, tables pointing outside the file, ...) and a file named
   * like an image format it does not hold are refused; so is a {@code declared} format that
   * contradicts the contents (a qcow2 published as raw, or raw data as qcow2, is a known hazard:
   * the hypervisor reads the image with the wrong driver) unless {@code forced}.
   *
   * @param declared {@code --disk-format}, or null to detect it
   * @param forced {@code --force-disk-format}: publish {@code declared} whatever the contents
   * @throws DiskferryException BAD_INPUT for anything that must not be published
   */
  public static String diskFormatFor(Path file, String declared, boolean forced) {
    String content = ImageInspector.identify(file);
    ImageInspector.checkSource(
        file, content, forced || (declared != null && RAW_CONTENTS.containsKey(declared)),
        "give --disk-format raw");
    String format = declared;
    if (format == null) {
      format = glanceFormat(file, content);
    } else if (!forced && !fits(declared, content)) {
      String detected = content.equals("raw") ? "raw" : glanceName(content);
      throw DiskferryException.badInput(
          file + " holds " + describe(content) + " but --disk-format is " + declared + "; Glance"
              + " would publish it as " + declared + " and hypervisors would read it so. Leave"
              + " --disk-format out" + (detected == null ? "" : " to publish it as " + detected)
              + ", or add --force-disk-format if " + declared + " is really meant");
    }
    if (format.equals("qcow2") && content.equals("qcow2")) {
      // The checks of an oVirt upload: damage, backing files, encryption, ...
      ImageInspector.inspect(file);
    }
    return format;
  }

  /** For each disk_format taking the bytes as they are, the contents (qemu-img's names) it fits. */
  private static final Map<String, Set<String>> RAW_CONTENTS = Map.of(
      "raw", Set.of("raw", "iso"),
      "ami", Set.of("raw", "iso"),
      "aki", Set.of("raw", "gzip", "xz", "zstd", "bzip2"),
      "ari", Set.of("raw", "gzip", "xz", "zstd", "bzip2"));

  private static boolean fits(String declared, String content) {
    Set<String> raw = RAW_CONTENTS.get(declared);
    if (raw != null) {
      return raw.contains(content);
    }
    return declared.equals(glanceName(content));
  }

  /** Glance's name for a format qemu-img names {@code content}, or null when it has none. */
  private static String glanceName(String content) {
    return switch (content) {
      case "qcow2", "raw", "iso", "vmdk", "vdi", "vhdx" -> content;
      case "vpc" -> "vhd";
      case "parallels" -> "ploop";
      default -> null;
    };
  }

  private static String describe(String content) {
    return switch (content) {
      case "raw" -> "raw data (no disk image header)";
      case "iso" -> "an ISO 9660 image";
      case "xz", "zstd", "bzip2", "gzip" -> content + "-compressed data";
      default -> "a " + content + " image";
    };
  }

  private static String glanceFormat(Path file, String f) {
    return switch (f) {
      case "qcow2", "raw", "iso", "vmdk", "vdi", "vhdx" -> f;
      case "vpc" -> "vhd";
      case "parallels" -> "ploop";
      case "xz", "zstd", "bzip2", "gzip" ->
          throw DiskferryException.badInput(
              file + " is compressed with " + f + ", not a disk image; decompress it first");
      default ->
          throw DiskferryException.badInput(
              file + " is a " + f + " image, which Glance does not accept (raw, qcow2, vmdk, vdi,"
                  + " vhd, vhdx, iso, ploop); convert it with: qemu-img convert -f " + f
                  + " -O qcow2 " + file + " " + file + ".qcow2");
    };
  }

  /** Image fields Glance sets itself: giving one gets 403 "Attribute ... is read-only". */
  private static final Set<String> READ_ONLY = Set.of(
      "id", "status", "checksum", "os_hash_algo", "os_hash_value", "size", "virtual_size",
      "locations", "location", "direct_url", "owner", "created_at", "updated_at", "deleted",
      "deleted_at", "file", "schema", "self", "stores");

  /** Image fields that have options of their own. */
  private static final Map<String, String> OWN_OPTIONS = Map.of(
      "name", "--name",
      "disk_format", "--disk-format",
      "visibility", "--visibility",
      "container_format", "nothing: diskferry uploads disk images as container_format bare");

  /**
   * Refuses {@code --property} keys that Glance would refuse (with 403, which reads like a
   * credentials problem) or that other options set, and values of the typed fields that are not
   * of their type.
   *
   * @throws DiskferryException BAD_INPUT naming the property
   */
  public static void checkProperties(Map<String, String> properties) {
    for (Map.Entry<String, String> p : properties.entrySet()) {
      String key = p.getKey();
      if (READ_ONLY.contains(key) || key.startsWith("os_glance")) {
        throw DiskferryException.badInput(
            "--property " + key + ": Glance sets " + key + " itself (read-only); leave it out");
      }
      String own = OWN_OPTIONS.get(key);
      if (own != null) {
        throw DiskferryException.badInput(
            "--property " + key + ": " + (own.startsWith("--") ? "use " + own + " instead" : own));
      }
      propertyValue(key, p.getValue());
    }
  }

  /**
   * The JSON value of a property: Glance's typed fields as their type (min_disk and min_ram are
   * integers, protected and os_hidden booleans, tags a comma-separated list), anything else the
   * string given.
   */
  static Object propertyValue(String key, String value) {
    switch (key) {
      case "min_disk", "min_ram" -> {
        try {
          int n = Integer.parseInt(value.trim());
          if (n >= 0) {
            return n;
          }
        } catch (NumberFormatException e) {
          // below
        }
        throw DiskferryException.badInput(
            "--property " + key + " wants a whole number of " + (key.equals("min_disk") ? "GiB"
                : "MiB") + " (0 or more), not '" + value + "'");
      }
      case "protected", "os_hidden" -> {
        if (value.equals("true") || value.equals("false")) {
          return Boolean.valueOf(value);
        }
        throw DiskferryException.badInput(
            "--property " + key + " wants true or false, not '" + value + "'");
      }
      case "tags" -> {
        java.util.List<String> tags = new java.util.ArrayList<>();
        for (String t : value.split(",")) {
          if (!t.isBlank()) {
            tags.add(t.trim());
          }
        }
        return tags;
      }
      default -> {
        return value;
      }
    }
  }

  /**
   * Runs the upload.
   *
   * @throws DiskferryException with the kind of the failure; the image is gone unless kept
   * @throws TransferInterruptedException after {@link #interrupt}
   */
  public GlanceResult run(Spec spec) {
    long start = System.nanoTime();
    String format = spec.diskFormat() != null ? spec.diskFormat() : detectDiskFormat(spec.file());
    SourceFile source = SourceFile.of(spec.file());
    long size = source.size();
    if (spec.useImport() && !glance.importMethods().contains("glance-direct")) {
      throw DiskferryException.badInput(
          "--import: this cloud does not offer the glance-direct import method; upload without"
              + " --import");
    }
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("name", spec.name());
    fields.put("disk_format", format);
    fields.put("container_format", "bare");
    if (spec.visibility() != null) {
      fields.put("visibility", spec.visibility());
    }
    spec.properties().forEach((k, v) -> fields.putIfAbsent(k, propertyValue(k, v)));
    listener.phase("creating image");
    GlanceImage image = glance.create(fields).image();
    String id = image.id();
    listener.info("created image " + id + " (" + format + ", bare)");
    boolean done = false;
    try {
      checkInterrupted(id);
      HashingFileBody body = send(spec, id, source);
      if (source.changed()) {
        // What was sent is no consistent image: it must not stay, --keep-on-failure or not.
        cleanUp(id, false);
        done = true;
        throw source.changedError();
      }
      if (spec.useImport()) {
        listener.phase("importing");
        glance.startImport(id, "glance-direct");
      }
      listener.phase("waiting for image to become active");
      image = waitActive(id, spec.useImport());
      String sha512 = body.sha512();
      String[] md5 = {image.checksum()};
      boolean verified;
      try {
        verified = verify(image, spec.file(), size, sha512, md5);
      } catch (DiskferryException e) {
        // Wrong data must not stay behind, --keep-on-failure or not.
        cleanUp(id, false);
        done = true;
        throw e;
      }
      done = true;
      return new GlanceResult(
          true, image, spec.file(), size, (System.nanoTime() - start) / 1e9, md5[0], sha512,
          verified,
          spec.useImport() ? "glance-direct" : "direct");
    } finally {
      if (!done) {
        cleanUp(id, spec.keepOnFailure());
      }
    }
  }

  private void cleanUp(String id, boolean keep) {
    if (keep) {
      listener.warn("image " + id + " was kept (--keep-on-failure); 'diskferry cancel " + id
          + "' removes it");
      return;
    }
    interrupted = false;
    try {
      if (glance.delete(id)) {
        listener.info("deleted image " + id);
      }
    } catch (RuntimeException e) {
      listener.warn("could not delete image " + id + ": " + e.getMessage()
          + "; 'diskferry cancel " + id + "' removes it");
    }
  }

  private void checkInterrupted(String id) {
    if (interrupted) {
      throw new TransferInterruptedException(
          (interruptReason == null ? "interrupted" : interruptReason) + "; image " + id
              + " was not finished", id);
    }
  }

  /** Sends the data, trying again after a dropped connection or a server error. */
  private HashingFileBody send(Spec spec, String id, SourceFile source) {
    long size = source.size();
    listener.phase(spec.useImport() ? "staging" : "uploading");
    long delay = 500;
    for (int attempt = 0; ; attempt++) {
      HashingFileBody body =
          new HashingFileBody(spec.file(), size, spec.bufferSize(), n -> listener.progress(n, size));
      try {
        glance.put(id, spec.useImport(), () -> body);
        if (!body.complete()) {
          throw DiskferryException.failed(
              "glance accepted the upload of image " + id + " before all data was sent");
        }
        listener.progress(size, size);
        return body;
      } catch (IOException | DiskferryException e) {
        checkInterrupted(id);
        if (source.changed()) {
          // Sending it again would not help: the file is not what it was.
          throw source.changedError();
        }
        boolean serverError = e instanceof DiskferryException d
            && d.kind() == DiskferryException.Kind.FAILED && d.getMessage().matches(".*: 5\\d\\d .*");
        // Glance may take in the broken upload only after it looked queued again: 409 on a retry.
        boolean late = attempt > 0 && e instanceof DiskferryException d
            && d.kind() == DiskferryException.Kind.CONFLICT;
        if (!(e instanceof IOException || serverError || late) || attempt >= spec.retries()) {
          throw e instanceof DiskferryException d ? d : DiskferryException.failed(
              "upload of image " + id + " failed: " + GlanceClient.describe((IOException) e));
        }
        listener.retry("upload of image " + id, attempt + 1, e);
        waitQueued(id);
        sleep(delay);
        delay = Math.min(delay * 2, 15_000);
      }
    }
  }

  /** After a broken upload Glance puts the image back to queued; wait for that before retrying. */
  private void waitQueued(String id) {
    long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
    long pause = 200;
    while (true) {
      GlanceImage i = glance.get(id);
      if ("queued".equals(i.status())) {
        return;
      }
      if (System.nanoTime() > deadline) {
        throw DiskferryException.failed(
            "image " + id + " is still " + i.status() + " after a failed upload; cannot retry");
      }
      sleep(pause);
      pause = Math.min(pause * 2, 2000);
    }
  }

  private GlanceImage waitActive(String id, boolean imported) {
    long deadline = System.nanoTime() + activeTimeout.toNanos();
    long pause = 100;
    while (true) {
      checkInterrupted(id);
      GlanceImage i = glance.find(id).orElseThrow(
          () -> DiskferryException.notFound("image " + id + " was deleted before it became active"));
      String failed = i.properties().get("os_glance_failed_import");
      if ("active".equals(i.status())) {
        return i;
      }
      if (Set.of("killed", "deleted", "pending_delete", "deactivated").contains(i.status())
          || (imported && "queued".equals(i.status()))
          || (failed != null && !failed.isBlank())) {
        throw DiskferryException.failed(
            "image " + id + " became " + i.status() + " instead of active"
                + (failed != null && !failed.isBlank() ? " (import failed in store " + failed + ")"
                    : ""));
      }
      if (System.nanoTime() > deadline) {
        throw DiskferryException.failed(
            "timed out waiting for image " + id + " to become active (still " + i.status() + ")");
      }
      sleep(pause);
      pause = Math.min(pause * 2, 2000);
    }
  }

  /**
   * Compares the digest Glance reports ({@code os_hash_algo}/{@code os_hash_value}) with the one
   * computed while sending (sha512). When the cloud uses another algorithm, or reports only its md5
   * {@code checksum}, the file is read once more for that digest. {@code md5[0]} is set to the local
   * md5 when one was computed. False when the server reports nothing comparable.
   */
  private boolean verify(GlanceImage image, Path file, long size, String sha512, String[] md5) {
    String algo = image.hashAlgo();
    if (algo != null && image.hashValue() != null) {
      String mine = "sha512".equals(algo) ? sha512 : digestOf(file, size, algo);
      if (mine != null) {
        if (!image.hashValue().equalsIgnoreCase(mine)) {
          throw mismatch(image, algo, mine, image.hashValue());
        }
        return true;
      }
    }
    if (image.checksum() != null) {
      String mine = digestOf(file, size, "md5");
      if (mine != null) {
        if (!image.checksum().equalsIgnoreCase(mine)) {
          throw mismatch(image, "md5", mine, image.checksum());
        }
        md5[0] = mine;
        return true;
      }
    }
    listener.warn("image " + image.id() + " has no checksum diskferry can compare; not verified");
    return false;
  }

  /**
   * The hex digest of the first {@code size} bytes of {@code file} with Glance's (Python hashlib)
   * algorithm name, or null when this runtime has no such algorithm.
   */
  private String digestOf(Path file, long size, String algo) {
    String name = javaDigestName(algo);
    java.security.MessageDigest d;
    try {
      d = java.security.MessageDigest.getInstance(name);
    } catch (java.security.NoSuchAlgorithmException e) {
      listener.warn("the cloud hashes images with " + algo + ", which this Java cannot compute");
      return null;
    }
    listener.phase("computing " + algo);
    java.nio.ByteBuffer buf = java.nio.ByteBuffer.allocate(1 << 20);
    try (java.nio.channels.FileChannel ch = java.nio.channels.FileChannel.open(file)) {
      long pos = 0;
      while (pos < size) {
        buf.clear().limit((int) Math.min(buf.capacity(), size - pos));
        int n = ch.read(buf, pos);
        if (n < 0) {
          throw DiskferryException.badInput(file + " became shorter after it was uploaded");
        }
        buf.flip();
        d.update(buf);
        pos += n;
      }
    } catch (java.io.IOException e) {
      throw DiskferryException.failed("cannot read " + file + " again to check it: " + e.getMessage());
    }
    return java.util.HexFormat.of().formatHex(d.digest());
  }

  /** Python hashlib names (sha512, sha3_256, md5, ...) as Java's MessageDigest names. */
  static String javaDigestName(String hashlib) {
    String a = hashlib.toLowerCase(java.util.Locale.ROOT);
    if (a.startsWith("sha3_")) {
      return "SHA3-" + a.substring(5);
    }
    if (a.matches("sha\\d+")) {
      return "SHA-" + a.substring(3);
    }
    if (a.matches("sha512_(224|256)")) {
      return "SHA-512/" + a.substring(7);
    }
    return a.toUpperCase(java.util.Locale.ROOT);
  }

  private static DiskferryException mismatch(
      GlanceImage image, String algo, String local, String remote) {
    return DiskferryException.failed(
        "checksum mismatch: image " + image.id() + " has " + algo + " " + remote
            + " but the data sent has " + local + "; the image is deleted");
  }

  static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new TransferInterruptedException("interrupted", null);
    }
  }
}
