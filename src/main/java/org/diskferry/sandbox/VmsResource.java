package org.diskferry.sandbox;

import static org.diskferry.sandbox.ApiSupport.*;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code /vms}: the VMs with their disk attachments and, with {@code all_content=true}, their
 * configuration (OVF); {@code /vms/ID/backups} and {@code /vms/ID/checkpoints} go to {@link
 * BackupsResource}.
 */
final class VmsResource {
  private final Sandbox sb;
  private final BackupsResource backups;

  VmsResource(Sandbox sb, DisksResource disks) {
    this.sb = sb;
    this.backups = new BackupsResource(sb, disks);
  }

  Reply handle(Exchange ex, String[] seg, Map<String, String> extra) throws IOException {
    if (seg.length >= 3 && seg[2].equals("backups")) {
      return backups.backups(ex, seg, extra);
    }
    if (seg.length >= 3 && seg[2].equals("checkpoints")) {
      return backups.checkpoints(ex, seg);
    }
    requireMethod(ex.method(), "GET");
    boolean allContent = bool(ex.query("all_content"), false)
        || "true".equalsIgnoreCase(String.valueOf(ex.header("all-content")).trim());
    synchronized (sb.lock) {
      if (seg.length == 1) {
        List<ObjectNode> items = new ArrayList<>();
        for (Vm vm : sb.vmBackups.vms.values()) {
          if (matches(ex, fields(vm))) {
            items.add(render(vm, allContent));
          }
        }
        return new Reply(200, collection("vm", limit(ex, items)));
      }
      Vm vm = sb.vmBackups.vm(seg[1]);
      if (seg.length == 2) {
        return new Reply(200, render(vm, allContent));
      }
      if (seg[2].equals("diskattachments") && seg.length <= 4) {
        List<ObjectNode> items = new ArrayList<>();
        for (int i = 0; i < vm.diskIds.size(); i++) {
          String did = vm.diskIds.get(i);
          if (seg.length == 4 && !seg[3].equals(did)) {
            continue;
          }
          items.add(attachment(vm, did, i == 0));
        }
        if (seg.length == 4) {
          if (items.isEmpty()) {
            throw ApiException.notFound();
          }
          return new Reply(200, items.get(0));
        }
        return new Reply(200, collection("disk_attachment", items));
      }
    }
    throw ApiException.notFound();
  }

  private static Map<String, String> fields(Vm vm) {
    Map<String, String> f = new LinkedHashMap<>();
    f.put("name", vm.name);
    f.put("id", vm.id);
    f.put("status", vm.status);
    f.put("cluster", "Default");
    f.put("datacenter", "dc1");
    return f;
  }

  private ObjectNode render(Vm vm, boolean allContent) {
    ObjectNode o = obj();
    o.put("name", vm.name);
    o.put("status", vm.status);
    o.put("type", "server");
    o.put("memory", s(1L << 30));
    o.set("cluster", ref("clusters", Sandbox.CLUSTER_ID));
    if (vm.up()) {
      o.set("host", ref("hosts", Sandbox.HOST_ID));
    }
    if (allContent) {
      ObjectNode conf = o.putObject("initialization").putObject("configuration");
      conf.put("type", "ovf");
      conf.put("data", ovf(vm));
    }
    String href = API + "/vms/" + vm.id;
    links(o, href, "diskattachments", "backups", "checkpoints", "snapshots");
    o.put("href", href);
    o.put("id", vm.id);
    return o;
  }

  private ObjectNode attachment(Vm vm, String diskId, boolean first) {
    ObjectNode o = obj();
    o.put("active", "true");
    o.put("bootable", s(first));
    o.put("interface", "virtio_scsi");
    o.put("pass_discard", "false");
    o.put("read_only", "false");
    o.put("uses_scsi_reservation", "false");
    o.set("disk", ref("disks", diskId));
    o.set("vm", ref("vms", vm.id));
    o.put("href", API + "/vms/" + vm.id + "/diskattachments/" + diskId);
    o.put("id", diskId);
    return o;
  }

  /** The VM's configuration as the engine exports it: an OVF envelope naming its disks. */
  private String ovf(Vm vm) {
    StringBuilder refs = new StringBuilder();
    StringBuilder disks = new StringBuilder();
    StringBuilder items = new StringBuilder();
    for (int i = 0; i < vm.diskIds.size(); i++) {
      Disk d = sb.disks.get(vm.diskIds.get(i));
      if (d == null) {
        continue;
      }
      String file = d.id + "/" + d.imageId;
      refs.append("<File ovf:href=\"").append(file).append("\" ovf:id=\"").append(d.imageId)
          .append("\" ovf:size=\"").append(d.provisionedSize).append("\" ovf:description=\"")
          .append(xml(d.name)).append("\"/>");
      disks.append("<Disk ovf:diskId=\"").append(d.imageId).append("\" ovf:size=\"")
          .append((d.provisionedSize + (1L << 30) - 1) >> 30).append("\" ovf:fileRef=\"")
          .append(file).append("\" ovf:parentRef=\"\" ovf:volume-format=\"")
          .append(d.format.equals("cow") ? "COW" : "RAW").append("\" ovf:volume-type=\"Sparse\"")
          .append(" ovf:disk-interface=\"VirtIO_SCSI\" ovf:boot=\"").append(i == 0)
          .append("\" ovf:pass-discard=\"false\" ovf:disk-alias=\"").append(xml(d.name))
          .append("\" ovf:disk-backup=\"").append(d.backup.equals("incremental") ? "Incremental" : "None")
          .append("\" ovf:wipe-after-delete=\"false\"/>");
      items.append("<Item><rasd:Caption>").append(xml(d.name)).append("</rasd:Caption>")
          .append("<rasd:InstanceId>").append(d.imageId).append("</rasd:InstanceId>")
          .append("<rasd:ResourceType>17</rasd:ResourceType>")
          .append("<rasd:HostResource>").append(file).append("</rasd:HostResource>")
          .append("<rasd:Parent>00000000-0000-0000-0000-000000000000</rasd:Parent>")
          .append("<rasd:StorageId>").append(d.storageDomainId).append("</rasd:StorageId>")
          .append("<rasd:StoragePoolId>").append(Sandbox.DC_ID).append("</rasd:StoragePoolId>")
          .append("<BootOrder>").append(i == 0 ? 1 : 0).append("</BootOrder>")
          .append("<IsReadOnly>false</IsReadOnly></Item>");
    }
    return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
        + "<ovf:Envelope xmlns:ovf=\"http://schemas.dmtf.org/ovf/envelope/1/\""
        + " xmlns:rasd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_ResourceAllocationSettingData\""
        + " xmlns:vssd=\"http://schemas.dmtf.org/wbem/wscim/1/cim-schema/2/CIM_VirtualSystemSettingData\""
        + " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" ovf:version=\"4.4.0.0\">"
        + "<References>" + refs + "</References>"
        + "<Section xsi:type=\"ovf:DiskSection_Type\"><Info>List of Virtual Disks</Info>" + disks
        + "</Section>"
        + "<Content ovf:id=\"out\" xsi:type=\"ovf:VirtualSystem_Type\">"
        + "<Name>" + xml(vm.name) + "</Name><TemplateId>00000000-0000-0000-0000-000000000000</TemplateId>"
        + "<ClusterCompatibilityVersion>4.7</ClusterCompatibilityVersion>"
        + "<Section ovf:id=\"" + vm.id + "\" ovf:required=\"false\" xsi:type=\"ovf:OperatingSystemSection_Type\">"
        + "<Info>Guest Operating System</Info><Description>other_linux</Description></Section>"
        + "<Section xsi:type=\"ovf:VirtualHardwareSection_Type\"><Info>1 CPU, 1024 Memory</Info>"
        + "<Item><rasd:Caption>1 virtual cpu</rasd:Caption><rasd:InstanceId>1</rasd:InstanceId>"
        + "<rasd:ResourceType>3</rasd:ResourceType><rasd:num_of_sockets>1</rasd:num_of_sockets>"
        + "<rasd:cpu_per_socket>1</rasd:cpu_per_socket></Item>"
        + "<Item><rasd:Caption>1024 MB of memory</rasd:Caption><rasd:InstanceId>2</rasd:InstanceId>"
        + "<rasd:ResourceType>4</rasd:ResourceType><rasd:AllocationUnits>MegaBytes</rasd:AllocationUnits>"
        + "<rasd:VirtualQuantity>1024</rasd:VirtualQuantity></Item>"
        + items + "</Section></Content></ovf:Envelope>";
  }

  private static String xml(String s) {
    return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
  }

}
