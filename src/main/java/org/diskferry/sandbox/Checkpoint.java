package org.diskferry.sandbox;

import java.util.List;

/** A VM checkpoint: the point in time a backup was taken, for the qcow2 disks it covered. */
final class Checkpoint {
  final String id;
  final String vmId;
  /** The previous checkpoint of the VM's chain, or null for the root. Guarded by the engine lock. */
  String parentId;
  final long createdMillis;
  final List<String> diskIds;
  final String description;

  Checkpoint(String id, String vmId, String parentId, long createdMillis, List<String> diskIds,
      String description) {
    this.id = id;
    this.vmId = vmId;
    this.parentId = parentId;
    this.createdMillis = createdMillis;
    this.diskIds = List.copyOf(diskIds);
    this.description = description;
  }
}
