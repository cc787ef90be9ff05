package org.diskferry.ovirt;

/**
 * What {@link EngineClient#createTransfer} asks the engine for. The transfer format is always
 * {@code raw} (the NBD backend: guest data, converted by the host).
 *
 * @param direction {@code upload} or {@code download}
 * @param hostId nullable: the engine picks a host
 * @param inactivityTimeout nullable: seconds, 0 disables; engine default 60
 * @param timeoutPolicy nullable: {@code legacy}, {@code pause} or {@code cancel}
 */
public record TransferSpec(
    String diskId,
    String direction,
    String hostId,
    Integer inactivityTimeout,
    String timeoutPolicy) {}
