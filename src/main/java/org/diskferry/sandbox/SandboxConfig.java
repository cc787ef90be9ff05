package org.diskferry.sandbox;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;

/**
 * Settings of a {@link Sandbox}.
 *
 * @param port engine (API + imageio proxy) port on 127.0.0.1; 0 picks a free one
 * @param dataDir where disks and the CA live; null creates a temporary directory, deleted on close
 * @param plainHttp serve plain HTTP instead of TLS
 * @param password the password of admin@internal; null for a random one per start
 * @param tick base period of the engine's transfer poller (grows ×2 up to 10× per transfer)
 * @param diskReadyDelay how long a new disk stays locked before it turns ok
 * @param initializingPolls how many polls a new transfer stays in initializing (0 = transferring at once)
 * @param succeededCleanupDelay how long finished_success transfers stay GET-able
 * @param failedCleanupDelay how long finished_failure transfers stay GET-able
 * @param legacyRemoval engines older than 4.4.7: finished transfers vanish (404) at once
 * @param defaultInactivityTimeoutSeconds the engine default for a transfer's inactivity_timeout
 * @param vms the virtual machines to create at start, with their disks
 */
public record SandboxConfig(
    int port,
    Path dataDir,
    boolean plainHttp,
    String password,
    Duration tick,
    Duration diskReadyDelay,
    int initializingPolls,
    Duration succeededCleanupDelay,
    Duration failedCleanupDelay,
    boolean legacyRemoval,
    int defaultInactivityTimeoutSeconds,
    List<VmSpec> vms) {

  public SandboxConfig {
    if (port < 0 || port > 65535) {
      throw new IllegalArgumentException("port out of range: " + port);
    }
    Objects.requireNonNull(tick, "tick");
    Objects.requireNonNull(diskReadyDelay, "diskReadyDelay");
    Objects.requireNonNull(succeededCleanupDelay, "succeededCleanupDelay");
    Objects.requireNonNull(failedCleanupDelay, "failedCleanupDelay");
    if (tick.isNegative() || tick.isZero()) {
      throw new IllegalArgumentException("tick must be positive");
    }
    if (diskReadyDelay.isNegative()
        || succeededCleanupDelay.isNegative()
        || failedCleanupDelay.isNegative()) {
      throw new IllegalArgumentException("delays must not be negative");
    }
    if (initializingPolls < 0) {
      throw new IllegalArgumentException("initializingPolls must not be negative");
    }
    if (defaultInactivityTimeoutSeconds < 0) {
      throw new IllegalArgumentException("defaultInactivityTimeoutSeconds must not be negative");
    }
    vms = vms == null ? List.of() : List.copyOf(vms);
  }

  /**
   * Defaults: free port, temporary data directory, TLS, random password, tick 250 ms, disks ready
   * after 500 ms, transferring at once, cleanup after 15 min (success) / 30 min (failure) like
   * engines ≥ 4.4.7, inactivity timeout 60 s, no VMs.
   */
  public static SandboxConfig defaults() {
    return new SandboxConfig(
        0,
        null,
        false,
        null,
        Duration.ofMillis(250),
        Duration.ofMillis(500),
        0,
        Duration.ofMinutes(15),
        Duration.ofMinutes(30),
        false,
        60,
        List.of());
  }

  public SandboxConfig withPort(int v) {
    return new SandboxConfig(v, dataDir, plainHttp, password, tick, diskReadyDelay, initializingPolls,
        succeededCleanupDelay, failedCleanupDelay, legacyRemoval, defaultInactivityTimeoutSeconds, vms);
  }

  public SandboxConfig withDataDir(Path v) {
    return new SandboxConfig(port, v, plainHttp, password, tick, diskReadyDelay, initializingPolls,
        succeededCleanupDelay, failedCleanupDelay, legacyRemoval, defaultInactivityTimeoutSeconds, vms);
  }

  public SandboxConfig withPlainHttp(boolean v) {
    return new SandboxConfig(port, dataDir, v, password, tick, diskReadyDelay, initializingPolls,
        succeededCleanupDelay, failedCleanupDelay, legacyRemoval, defaultInactivityTimeoutSeconds, vms);
  }

  public SandboxConfig withPassword(String v) {
    return new SandboxConfig(port, dataDir, plainHttp, v, tick, diskReadyDelay, initializingPolls,
        succeededCleanupDelay, failedCleanupDelay, legacyRemoval, defaultInactivityTimeoutSeconds, vms);
  }

  public SandboxConfig withTick(Duration v) {
    return new SandboxConfig(port, dataDir, plainHttp, password, v, diskReadyDelay, initializingPolls,
        succeededCleanupDelay, failedCleanupDelay, legacyRemoval, defaultInactivityTimeoutSeconds, vms);
  }

  public SandboxConfig withDiskReadyDelay(Duration v) {
    return new SandboxConfig(port, dataDir, plainHttp, password, tick, v, initializingPolls,
        succeededCleanupDelay, failedCleanupDelay, legacyRemoval, defaultInactivityTimeoutSeconds, vms);
  }

  public SandboxConfig withInitializingPolls(int v) {
    return new SandboxConfig(port, dataDir, plainHttp, password, tick, diskReadyDelay, v,
        succeededCleanupDelay, failedCleanupDelay, legacyRemoval, defaultInactivityTimeoutSeconds, vms);
  }

  public SandboxConfig withSucceededCleanupDelay(Duration v) {
    return new SandboxConfig(port, dataDir, plainHttp, password, tick, diskReadyDelay, initializingPolls,
        v, failedCleanupDelay, legacyRemoval, defaultInactivityTimeoutSeconds, vms);
  }

  public SandboxConfig withFailedCleanupDelay(Duration v) {
    return new SandboxConfig(port, dataDir, plainHttp, password, tick, diskReadyDelay, initializingPolls,
        succeededCleanupDelay, v, legacyRemoval, defaultInactivityTimeoutSeconds, vms);
  }

  /** Both cleanup delays at once. */
  public SandboxConfig withCleanupDelay(Duration v) {
    return withSucceededCleanupDelay(v).withFailedCleanupDelay(v);
  }

  public SandboxConfig withLegacyRemoval(boolean v) {
    return new SandboxConfig(port, dataDir, plainHttp, password, tick, diskReadyDelay, initializingPolls,
        succeededCleanupDelay, failedCleanupDelay, v, defaultInactivityTimeoutSeconds, vms);
  }

  public SandboxConfig withDefaultInactivityTimeoutSeconds(int v) {
    return new SandboxConfig(port, dataDir, plainHttp, password, tick, diskReadyDelay, initializingPolls,
        succeededCleanupDelay, failedCleanupDelay, legacyRemoval, v, vms);
  }

  public SandboxConfig withVms(List<VmSpec> v) {
    return new SandboxConfig(port, dataDir, plainHttp, password, tick, diskReadyDelay, initializingPolls,
        succeededCleanupDelay, failedCleanupDelay, legacyRemoval, defaultInactivityTimeoutSeconds, v);
  }
}
