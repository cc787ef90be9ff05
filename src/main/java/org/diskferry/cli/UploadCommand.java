package org.diskferry.cli;

import java.nio.file.Path;
import org.diskferry.error.DiskferryException;
import org.diskferry.transfer.Direction;
import org.diskferry.transfer.TransferRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code diskferry upload FILE}: create a disk (or fill an existing one) from a local image. */
@Command(
    name = "upload",
    mixinStandardHelpOptions = true,
    description = "Create a disk (or fill an existing one) from a local image.")
final class UploadCommand extends TransferCommand {

  @Parameters(
      index = "0",
      paramLabel = "FILE",
      description = "The image to upload: raw, qcow2 (v2 or v3) or ISO.")
  Path file;

  @Option(
      names = {"-s", "--storage-domain"},
      paramLabel = "NAME",
      description = "Storage domain of the new disk (env DISKFERRY_STORAGE_DOMAIN).")
  String storageDomain;

  @Option(
      names = "--name",
      paramLabel = "NAME",
      description = "Name of the new disk (default: the file name without extension).")
  String name;

  @Option(
      names = "--disk-id",
      paramLabel = "UUID",
      description = "Fill this existing disk instead of creating one.")
  String diskId;

  @Option(
      names = {"-f", "--format"},
      paramLabel = "FORMAT",
      completionCandidates = Candidates.ImageFormats.class,
      description = "Format of the new disk: raw or qcow2 (default: the image's).")
  String format;

  @Option(names = "--preallocated", description = "Create the new disk fully allocated.")
  boolean preallocated;

  @Option(names = "--description", paramLabel = "TEXT", description = "Description of the new disk.")
  String description;

  @Option(
      names = "--timeout-policy",
      paramLabel = "POLICY",
      completionCandidates = Candidates.TimeoutPolicies.class,
      description = "What the engine does with an idle transfer: legacy, pause or cancel.")
  String timeoutPolicy;

  @Option(
      names = "--inactivity-timeout",
      paramLabel = "SECONDS",
      description = "Seconds of inactivity before the engine acts (default: the engine's).")
  Integer inactivityTimeout;

  @Option(
      names = "--disk-format",
      paramLabel = "FORMAT",
      completionCandidates = Candidates.GlanceDiskFormats.class,
      description =
          "Glance: the image's disk_format (default: detected from the file: raw, qcow2, vmdk,"
              + " vdi, vhd, vhdx, iso, ploop).")
  String diskFormat;

  @Option(
      names = "--force-disk-format",
      description =
          "Glance: publish the image with --disk-format even where the file's contents say"
              + " otherwise (raw data as qcow2, a qcow2 image as raw, ...).")
  boolean forceDiskFormat;

  @Option(
      names = "--visibility",
      paramLabel = "VISIBILITY",
      completionCandidates = Candidates.Visibilities.class,
      description = "Glance: public, community, shared or private (default: the cloud's).")
  String visibility;

  @Option(
      names = "--property",
      paramLabel = "KEY=VALUE",
      description = "Glance: an image property; repeat for more.")
  java.util.List<String> properties = new java.util.ArrayList<>();

  @Option(
      names = "--keep-on-failure",
      description = "Glance: keep the unfinished image when the upload fails or is interrupted.")
  boolean keepOnFailure;

  @Option(
      names = "--import",
      description =
          "Glance: stage the data and import it (glance-direct) instead of a direct upload; a"
              + " failed staging is retried against the staging area.")
  boolean useImport;

  @Override
  Path filePath() {
    return file;
  }

  @Override
  public Integer call() {
    org.diskferry.transfer.LocalImage.checkNotStdio(file, true);
    checkName(name);
    if (glance()) {
      return GlanceCommands.upload(this);
    }
    GlanceCommands.checkOptions(this, false, GlanceCommands.GLANCE_UPLOAD, null);
    if (format != null && !format.equals("raw") && !format.equals("qcow2")) {
      throw DiskferryException.badInput("--format must be raw or qcow2, not '" + format + "'");
    }
    if (timeoutPolicy != null && !timeoutPolicy.matches("legacy|pause|cancel")) {
      throw DiskferryException.badInput(
          "--timeout-policy must be legacy, pause or cancel, not '" + timeoutPolicy + "'");
    }
    if (inactivityTimeout != null && inactivityTimeout < 0) {
      throw DiskferryException.badInput("--inactivity-timeout must be 0 or more seconds");
    }
    if (diskId != null && !org.diskferry.ovirt.OvirtBackend.isUuid(diskId)) {
      throw DiskferryException.badInput("--disk-id must be a UUID, not '" + diskId + "'");
    }
    String diskName = name != null ? name : defaultName(file);
    TransferRequest req =
        new TransferRequest(
            Direction.UPLOAD,
            file,
            diskId,
            storageDomain,
            diskName,
            format,
            preallocated,
            description,
            checkedWorkers(),
            checkedBufferSize(),
            host,
            useProxy,
            timeoutPolicy,
            inactivityTimeout,
            false,
            heartbeat(),
            checkedRangeSize());
    // Check the local file before logging in: bad input should fail fast and touch nothing.
    // A file named like qcow2 (or vmdk, ...) that holds no such header is damaged, or raw by
    // mistake: only -f raw says the user means its bytes as they are.
    org.diskferry.image.ImageInspector.inspectUpload(
        file, "raw".equals(format), "upload it with --format raw (or rename it)");
    return transfer(req);
  }

  /** An empty name, or one with control characters, would make a disk nobody can find by name. */
  static void checkName(String name) {
    if (name == null) {
      return;
    }
    if (name.isBlank()) {
      throw DiskferryException.badInput(
          "--name is empty; give a name, or leave --name out to use the file name");
    }
    if (name.chars().anyMatch(Character::isISOControl)) {
      throw DiskferryException.badInput("--name must not contain control characters");
    }
  }

  static String defaultName(Path file) {
    String n = file.getFileName() == null ? "disk" : file.getFileName().toString();
    int dot = n.lastIndexOf('.');
    return dot > 0 ? n.substring(0, dot) : n;
  }
}
