package org.diskferry.cli;

import java.nio.file.Path;
import org.diskferry.error.DiskferryException;
import org.diskferry.transfer.Direction;
import org.diskferry.transfer.TransferRequest;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** {@code diskferry download DISK FILE}: save a disk to a local image. */
@Command(
    name = "download",
    mixinStandardHelpOptions = true,
    description = "Save a disk (id or name), or a Glance image with --cloud, to a local image.")
final class DownloadCommand extends TransferCommand {

  @Parameters(index = "0", paramLabel = "DISK", description = "Disk (or Glance image) id or unique name.")
  String disk;

  @Parameters(index = "1", paramLabel = "FILE", description = "The local file to write.")
  Path file;

  @Option(
      names = {"-f", "--format"},
      paramLabel = "FORMAT",
      completionCandidates = Candidates.ImageFormats.class,
      description =
          "Format of the local file: raw (sparse; the default) or qcow2 (compact, v3).")
  String format;

  @Option(names = "--force", description = "Overwrite FILE if it exists.")
  boolean force;

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
    if (format != null && !format.equals("raw") && !format.equals("qcow2")) {
      throw DiskferryException.badInput("--format must be raw or qcow2, not '" + format + "'");
    }
    org.diskferry.transfer.LocalImage.checkTarget(file.toAbsolutePath(), force);
    TransferRequest req =
        new TransferRequest(
            Direction.DOWNLOAD,
            file,
            disk,
            null,
            null,
            format == null ? "raw" : format,
            false,
            null,
            checkedWorkers(),
            checkedBufferSize(),
            host,
            useProxy,
            null,
            null,
            force,
            heartbeat(),
            checkedRangeSize());
    return transfer(req);
  }
}
