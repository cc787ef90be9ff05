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
    description = "Save a disk (id or name) to a local image.")
final class DownloadCommand extends TransferCommand {

  @Parameters(index = "0", paramLabel = "DISK", description = "Disk id or unique name.")
  String disk;

  @Parameters(index = "1", paramLabel = "FILE", description = "The local file to write.")
  Path file;

  @Option(
      names = {"-f", "--format"},
      paramLabel = "FORMAT",
      completionCandidates = Candidates.ImageFormats.class,
      description = "Format of the local file: raw (sparse; the default).")
  String format;

  @Option(names = "--force", description = "Overwrite FILE if it exists.")
  boolean force;

  @Override
  Path filePath() {
    return file;
  }

  @Override
  public Integer call() {
    if (format != null && !format.equals("raw")) {
      throw DiskferryException.badInput(
          "--format " + format + " is not supported yet; this version writes raw images");
    }
    org.diskferry.transfer.LocalImage.checkTarget(file.toAbsolutePath(), force);
    TransferRequest req =
        new TransferRequest(
            Direction.DOWNLOAD,
            file,
            disk,
            null,
            null,
            "raw",
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
