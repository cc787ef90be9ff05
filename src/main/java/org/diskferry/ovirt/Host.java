package org.diskferry.ovirt;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;

/** An engine host (hypervisor), e.g. the one serving an image transfer. */
@JsonIgnoreProperties(ignoreUnknown = true)
public record Host(String id, String name, String status) {}
