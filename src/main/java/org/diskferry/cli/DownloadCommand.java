package org.diskferry.cli;

import java.nio.file.Path;
import org.diskferry.transfer.Direction;
import org.diskferry.transfer.TransferRequest;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code diskferry download DISK FILE}: save a disk to a local image. */
@Command(
    name = "download",
    description = "Save a disk (id or name), or a Glance image with --cloud, to a local image.")
final class DownloadCommand extends TransferCommand {

  @Parameters(index = "0", paramLabel = "DISK", description = "Disk (or Glance image) id or unique name.")
  String disk;

  @Parameters(index = "1", paramLabel = "FILE", description = "The local file to write.")
  Path file;

  @ArgGroup(validate = false, order = 3, heading = "%noVirt disk options:%n")
  Disk ovirt = new Disk();

  /** The options of a download from an oVirt disk. */
  static final class Disk extends OvirtOptions {
    @Option(
        names = {"-f", "--format"},
        paramLabel = "FORMAT",
        description =
            "Format of the local file: raw (sparse; the default) or qcow2 (compact, v3).")
    OptionTypes.DiskFormat format;
  }

  @Option(names = "--force", description = "Overwrite FILE if it exists.")
  boolean force;

  @Override
  OvirtOptions ovirt() {
    return ovirt;
  }

  @Override
  Path filePath() {
    return file;
  }

  @Override
  public Integer call() {
    org.diskferry.transfer.LocalImage.checkNotStdio(file, false);
    if (glance()) {
      return GlanceCommands.download(this);
    }
    org.diskferry.transfer.LocalImage.checkTarget(file.toAbsolutePath(), force);
    TransferRequest req =
        new TransferRequest(
            Direction.DOWNLOAD,
            file,
            disk,
            null,
            null,
            ovirt.format == null ? "raw" : ovirt.format.wire(),
            false,
            null,
            checkedWorkers(),
            checkedBufferSize(),
            ovirt.host,
            ovirt.useProxy,
            null,
            null,
            force,
            heartbeat(),
            checkedRangeSize());
    return transfer(req);
  }
}
