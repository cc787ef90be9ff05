package org.diskferry.sandbox;

import java.util.List;

/** A virtual machine of the sandbox, with its disks attached in order. Guarded by the engine lock. */
final class Vm {
  final String id;
  final String name;
  final String status; // up | down
  final List<String> diskIds;

  Vm(String id, String name, String status, List<String> diskIds) {
    this.id = id;
    this.name = name;
    this.status = status;
    this.diskIds = List.copyOf(diskIds);
  }

  boolean up() {
    return status.equals("up");
  }
}
