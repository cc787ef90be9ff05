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
    String f = ImageInspector.identify(file);
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

  /**
   * Runs the upload.
   *
   * @throws DiskferryException with the kind of the failure; the image is gone unless kept
   * @throws TransferInterruptedException after {@link #interrupt}
   */
  public GlanceResult run(Spec spec) {
    long start = System.nanoTime();
    String format = spec.diskFormat() != null ? spec.diskFormat() : detectDiskFormat(spec.file());
    long size;
    try {
      size = Files.size(spec.file());
    } catch (IOException e) {
      throw DiskferryException.badInput(spec.file() + ": " + e.getMessage());
    }
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
    spec.properties().forEach(fields::putIfAbsent);
    listener.phase("creating image");
    GlanceImage image = glance.create(fields).image();
    String id = image.id();
    listener.info("created image " + id + " (" + format + ", bare)");
    boolean done = false;
    try {
      checkInterrupted(id);
      HashingFileBody body = send(spec, id, size);
      if (spec.useImport()) {
        listener.phase("importing");
        glance.startImport(id, "glance-direct");
      }
      listener.phase("waiting for image to become active");
      image = waitActive(id, spec.useImport());
      String md5 = body.md5();
      String sha512 = body.sha512();
      boolean verified;
      try {
        verified = verify(image, md5, sha512);
      } catch (DiskferryException e) {
        // Wrong data must not stay behind, --keep-on-failure or not.
        cleanUp(id, false);
        done = true;
        throw e;
      }
      done = true;
      return new GlanceResult(
          true, image, spec.file(), size, (System.nanoTime() - start) / 1e9, md5, sha512, verified,
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
  private HashingFileBody send(Spec spec, String id, long size) {
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

  /** Compares the server's checksums with the local ones; false when the server has none. */
  private boolean verify(GlanceImage image, String md5, String sha512) {
    boolean any = false;
    if ("sha512".equals(image.hashAlgo()) && image.hashValue() != null) {
      if (!image.hashValue().equalsIgnoreCase(sha512)) {
        throw mismatch(image, "sha512", sha512, image.hashValue());
      }
      any = true;
    }
    if (image.checksum() != null && md5 != null) {
      if (!image.checksum().equalsIgnoreCase(md5)) {
        throw mismatch(image, "md5", md5, image.checksum());
      }
      any = true;
    }
    if (!any) {
      listener.warn("image " + image.id() + " has no checksum diskferry can compare; not verified");
    }
    return any;
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
