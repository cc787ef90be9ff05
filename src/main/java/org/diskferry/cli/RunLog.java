package org.diskferry.cli;

import java.io.FileOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.LocalDateTime;
import java.time.format.DateTimeFormatter;
import org.diskferry.error.DiskferryException;

/**
 * The {@code --log-file} of one run: opened before the command does anything, so that a file that
 * cannot be written is a usage error (exit 2) and not a silent loss; every line the user sees on
 * stderr (the final error included) is appended with a timestamp. Thread-safe.
 */
final class RunLog implements AutoCloseable {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ISO_LOCAL_DATE_TIME;

  private final PrintStream out;

  private RunLog(PrintStream out) {
    this.out = out;
  }

  /** Opens {@code file} for appending; exit 2 when it cannot be. */
  static RunLog open(Path file) {
    Path parent = file.toAbsolutePath().getParent();
    if (parent != null && !Files.isDirectory(parent)) {
      throw DiskferryException.badInput(
          "cannot open log file " + file + ": directory " + parent + " does not exist");
    }
    if (Files.isDirectory(file)) {
      throw DiskferryException.badInput("cannot open log file " + file + ": it is a directory");
    }
    try {
      return new RunLog(
          new PrintStream(new FileOutputStream(file.toFile(), true), true, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw DiskferryException.badInput("cannot open log file " + file + ": " + e.getMessage());
    }
  }

  /** Appends one timestamped line. */
  synchronized void line(String message) {
    out.println(LocalDateTime.now().format(TIME) + " " + message);
  }

  @Override
  public synchronized void close() {
    out.close();
  }
}
