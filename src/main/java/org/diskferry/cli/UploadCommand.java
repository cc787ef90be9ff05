package org.diskferry.cli;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.diskferry.error.DiskferryException;
import org.diskferry.transfer.Direction;
import org.diskferry.transfer.TransferRequest;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code diskferry upload FILE}: create a disk (or fill an existing one) from a local image. */
@Command(
    name = "upload",
    description = "Create a disk (or fill an existing one) from a local image.")
final class UploadCommand extends TransferCommand {

  @Parameters(
      index = "0",
      paramLabel = "FILE",
      description = "The image to upload: raw, qcow2 (v2 or v3) or ISO.")
  Path file;

  @Option(
      names = "--name",
      paramLabel = "NAME",
      description = "Name of the new disk or image (default: the file name without extension).")
  String name;

  @ArgGroup(validate = false, order = 3, heading = "%noVirt disk options:%n")
  Disk disk = new Disk();

  @ArgGroup(validate = false, order = 4, heading = "%nGlance image options (--cloud):%n")
  Image image = new Image();

  /** The options of a new or existing oVirt disk and its transfer. */
  static final class Disk extends OvirtOptions {
    @Option(
        names = {"-s", "--storage-domain"},
        paramLabel = "NAME",
        description = "Storage domain of the new disk (env DISKFERRY_STORAGE_DOMAIN).")
    String storageDomain;

    @Option(
        names = "--disk-id",
        paramLabel = "UUID",
        description = "Fill this existing disk instead of creating one.")
    String diskId;

    @Option(
        names = {"-f", "--format"},
        paramLabel = "FORMAT",
        description = "Format of the new disk: ${COMPLETION-CANDIDATES} (default: the image's).")
    OptionTypes.DiskFormat format;

    @Option(names = "--preallocated", description = "Create the new disk fully allocated.")
    boolean preallocated;

    @Option(
        names = "--unique-name",
        description =
            "Refuse (exit 5) to create a disk whose name another disk already has; without it,"
                + " that is a warning.")
    boolean uniqueName;

    @Option(
        names = "--description",
        paramLabel = "TEXT",
        description = "Description of the new disk.")
    String description;

    @Option(
        names = "--timeout-policy",
        paramLabel = "POLICY",
        description = "What the engine does with an idle transfer: ${COMPLETION-CANDIDATES}.")
    OptionTypes.TimeoutPolicy timeoutPolicy;

    @Option(
        names = "--inactivity-timeout",
        paramLabel = "SECONDS",
        converter = OptionTypes.NotNegative.class,
        description = "Seconds of inactivity before the engine acts (default: the engine's).")
    Integer inactivityTimeout;
  }

  /** The options of a new Glance image. */
  static final class Image implements Platform.GlanceOnly {
    @Option(
        names = "--disk-format",
        paramLabel = "FORMAT",
        description =
            "The image's disk_format: ${COMPLETION-CANDIDATES} (default: detected from the"
                + " file).")
    OptionTypes.GlanceDiskFormat diskFormat;

    @Option(
        names = "--visibility",
        paramLabel = "VISIBILITY",
        description = "Who can see the image: ${COMPLETION-CANDIDATES} (default: the cloud's).")
    OptionTypes.Visibility visibility;

    @Option(
        names = "--property",
        paramLabel = "KEY=VALUE",
        description = "An image property; repeat for more.")
    Map<String, String> properties = new LinkedHashMap<>();

    @Option(
        names = "--force-disk-format",
        description =
            "Publish the image with --disk-format even where the file's contents say otherwise"
                + " (raw data as qcow2, a qcow2 image as raw, ...).")
    boolean forceDiskFormat;

    @Option(
        names = "--keep-on-failure",
        description = "Keep the unfinished image when the upload fails or is interrupted.")
    boolean keepOnFailure;

    @Option(
        names = "--import",
        description =
            "Stage the data and import it (glance-direct) instead of a direct upload; a failed"
                + " staging is retried against the staging area.")
    boolean useImport;
  }

  @Override
  OvirtOptions ovirt() {
    return disk;
  }

  @Override
  void configure(org.diskferry.ovirt.OvirtBackend backend) {
    backend.uniqueNames(disk.uniqueName);
  }

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
    if (disk.diskId != null && !org.diskferry.ovirt.OvirtBackend.isUuid(disk.diskId)) {
      throw DiskferryException.badInput("--disk-id must be a UUID, not '" + disk.diskId + "'");
    }
    String diskName = name != null ? name : defaultName(file);
    TransferRequest req =
        new TransferRequest(
            Direction.UPLOAD,
            file,
            disk.diskId,
            disk.storageDomain,
            diskName,
            OptionTypes.wire(disk.format),
            disk.preallocated,
            disk.description,
            checkedWorkers(),
            checkedBufferSize(),
            disk.host,
            disk.useProxy,
            OptionTypes.wire(disk.timeoutPolicy),
            disk.inactivityTimeout,
            false,
            heartbeat(),
            checkedRangeSize());
    // Check the local file before logging in: bad input should fail fast and touch nothing.
    // A file named like qcow2 (or vmdk, ...) that holds no such header is damaged, or raw by
    // mistake: only -f raw says the user means its bytes as they are.
    org.diskferry.image.ImageInspector.inspectUpload(
        file, disk.format == OptionTypes.DiskFormat.RAW,
        "upload it with --format raw (or rename it)");
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
