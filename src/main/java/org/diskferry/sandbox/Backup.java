package org.diskferry.sandbox;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A VM backup (legacy flavour: live when the VM is up, cold when it is down). Its disks are
 * exposed as they were when it started: a copy taken at that moment, read by its transfers.
 * Fields are guarded by the engine lock.
 */
final class Backup {
  final String id;
  final Vm vm;
  final List<String> diskIds;
  final String fromCheckpointId;
  final String description;
  final long createdMillis;
  final Path dir;
  String phase = "initializing";
  long modifiedMillis;
  long finishedAtNanos;
  /** The checkpoint this backup creates, once it has started (null for raw disks only). */
  String toCheckpointId;
  /** Per disk: full or incremental, once it has started. */
  final Map<String, String> modes = new LinkedHashMap<>();
  /** Per disk: its content at the backup's point in time. */
  final Map<String, Disk> copies = new LinkedHashMap<>();
  /** Per incremental disk: the blocks written between the from-checkpoint and this backup. */
  final Map<String, ExtentMap> dirty = new LinkedHashMap<>();
  /** Finalize was asked before the backup was ready: it ends failed. */
  boolean stopped;
  /** The copies are being taken, outside the engine lock. */
  boolean copying;

  Backup(String id, Vm vm, List<String> diskIds, String fromCheckpointId, String description,
      Path dir) {
    this.id = id;
    this.vm = vm;
    this.diskIds = List.copyOf(diskIds);
    this.fromCheckpointId = fromCheckpointId;
    this.description = description;
    this.createdMillis = System.currentTimeMillis();
    this.modifiedMillis = createdMillis;
    this.dir = dir;
  }

  boolean finished() {
    return phase.equals("succeeded") || phase.equals("failed");
  }
}
