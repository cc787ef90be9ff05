package org.diskferry.ovirt;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;

/** The imageio blkhash of a whole image, from {@code GET /images/<ticket>/checksum}. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ImageChecksum(
    @JsonProperty("algorithm") String algorithm,
    @JsonProperty("block_size") long blockSize,
    @JsonProperty("checksum") String checksum) {}
