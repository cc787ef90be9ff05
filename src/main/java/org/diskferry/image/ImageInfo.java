package org.diskferry.image;

import java.nio.file.Path;

/**
 * What {@link ImageInspector#inspect} found out about a local image.
 *
 * @param path the file
 * @param format its format
 * @param virtualSize the size the guest sees, in bytes
 * @param fileSize the size of the file itself, in bytes
 * @param qcow2 the qcow2 header, or {@code null} for raw and ISO images
 */
public record ImageInfo(
    Path path, ImageFormat format, long virtualSize, long fileSize, Qcow2Header qcow2) {}
