package org.diskferry.ovirt;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/**
 * One entry of {@code GET /images/<ticket>/extents?context=dirty}.
 *
 * @param dirty changed since the backup's checkpoint
 * @param zero reads as zeros
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record DirtyExtent(long start, long length, boolean dirty, boolean zero) {}
