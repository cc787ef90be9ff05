package org.diskferry.ovirt;

import com.fasterxml.jackson.annotation.JsonCreator;
import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import java.util.Collections;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * What an imageio ticket supports, from {@code OPTIONS /images/<ticket>}.
 *
 * @param features e.g. {@code checksum}, {@code extents}, {@code flush}, {@code zero}
 * @param maxReaders how many connections may read at once (advertised, not enforced)
 * @param maxWriters how many connections may write at once
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ImageioOptions(Set<String> features, int maxReaders, int maxWriters) {

  /** What an old server that answers 405 or 204 to OPTIONS supports. */
  public static final ImageioOptions LEGACY = new ImageioOptions(Set.of(), 1, 1);

  public ImageioOptions {
    features =
        features == null
            ? Set.of()
            : Collections.unmodifiableSet(new LinkedHashSet<>(features));
    maxReaders = Math.max(1, maxReaders);
    maxWriters = Math.max(1, maxWriters);
  }

  @JsonCreator
  static ImageioOptions fromJson(
      @JsonProperty("features") List<String> features,
      @JsonProperty("max_readers") Integer maxReaders,
      @JsonProperty("max_writers") Integer maxWriters) {
    return new ImageioOptions(
        features == null ? Set.of() : new LinkedHashSet<>(features),
        maxReaders == null ? 1 : maxReaders,
        maxWriters == null ? 1 : maxWriters);
  }

  public boolean supports(String feature) {
    return features.contains(feature);
  }
}
