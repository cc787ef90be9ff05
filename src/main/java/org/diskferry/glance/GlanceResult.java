package org.diskferry.glance;

import java.nio.file.Path;

/**
 * What an upload or download did.
 *
 * @param upload true for an upload
 * @param image the image as Glance describes it at the end
 * @param file the local file
 * @param bytes bytes moved in total (a resumed download counts the whole image)
 * @param seconds wall time
 * @param md5 local md5 hex (upload; download when that was the algorithm checked), or null
 * @param sha512 local sha512 hex, or null
 * @param verified true when the local and the server's checksums were compared and matched
 * @param method upload: {@code direct} or {@code glance-direct}; download: null
 */
public record GlanceResult(
    boolean upload,
    GlanceImage image,
    Path file,
    long bytes,
    double seconds,
    String md5,
    String sha512,
    boolean verified,
    String method) {}
