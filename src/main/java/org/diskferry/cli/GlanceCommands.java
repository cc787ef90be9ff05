package org.diskferry.cli;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import okhttp3.OkHttpClient;
import org.diskferry.cli.progress.ByteSizes;
import org.diskferry.error.DiskferryException;
import org.diskferry.glance.CloudConfig;
import org.diskferry.glance.CloudsYaml;
import org.diskferry.glance.GlanceClient;
import org.diskferry.glance.GlanceDownload;
import org.diskferry.glance.GlanceImage;
import org.diskferry.glance.GlanceResult;
import org.diskferry.glance.GlanceUpload;
import org.diskferry.http.HttpClientFactory;
import org.diskferry.http.TlsOptions;
import org.diskferry.transfer.Journal;
import org.diskferry.transfer.JournalStore;
import org.diskferry.transfer.TransferListener;

/**
 * The commands when {@code --cloud NAME} (or {@code OS_CLOUD}) selects the OpenStack Glance
 * backend: connection from clouds.yaml, the upload and download flows, status, cancel, list and
 * resume of Glance images.
 */
final class GlanceCommands {

  private GlanceCommands() {}

  /** The selected cloud: --cloud (or DISKFERRY_CLOUD, the profile's cloud), else OS_CLOUD. */
  static String cloudName(EngineCommand c) {
    String name = c.connection.openstack.cloud;
    if (name == null || name.isBlank()) {
      name = c.cli().env.get("OS_CLOUD");
    }
    return name == null || name.isBlank() ? null : name;
  }

  /** Session of one command: the cloud and an authenticated client. */
  record Session(CloudConfig cloud, GlanceClient glance) {}

  static Session connect(EngineCommand c) {
    String name = cloudName(c);
    CloudConfig cloud = CloudsYaml.fromEnvironment(c.cli().env).resolve(name);
    boolean insecure = c.connection.insecure || !cloud.verify();
    Path ca = c.connection.cafile != null ? c.connection.cafile : cloud.cacert();
    if (insecure) {
      c.cli().warn((c.connection.insecure ? "--insecure" : "verify: false in cloud '" + name + "'")
          + ": TLS certificates are NOT verified; anyone on the path can read and change the"
          + " data");
    }
    OkHttpClient http = HttpClientFactory.create(
        new TlsOptions(insecure ? null : ca, insecure), c.verbosity() >= 2 ? c.log(2) : null);
    return new Session(cloud, GlanceClient.connect(http, cloud));
  }

  // ------------------------------------------------------------------------------------ upload

  static int upload(UploadCommand u) {
    Map<String, String> props = u.image.properties;
    if (props.containsKey("")) {
      throw DiskferryException.badInput("--property wants KEY=VALUE, not '=" + props.get("") + "'");
    }
    String format = OptionTypes.wire(u.image.diskFormat);
    // Bad input fails before logging in and creates nothing.
    if (format == null) {
      format = GlanceUpload.detectDiskFormat(u.file);
    } else {
      org.diskferry.image.ImageInspector.identify(u.file);
    }
    GlanceUpload.Spec spec = new GlanceUpload.Spec(
        u.file, u.name != null ? u.name : UploadCommand.defaultName(u.file), format,
        OptionTypes.wire(u.image.visibility), props, u.image.useImport, u.image.keepOnFailure,
        u.retries, u.checkedBufferSize());
    TransferListener listener = u.listener();
    try {
      Session s = connect(u);
      GlanceUpload flow = new GlanceUpload(s.glance(), listener);
      if (u.cli().signals) {
        Signals.install(sig -> flow.interrupt("interrupted by " + sig));
      }
      GlanceResult r = flow.run(spec);
      close(listener);
      print(u, s, r);
      return 0;
    } finally {
      close(listener);
      u.closeLog();
    }
  }

  private static void close(TransferListener l) {
    if (l instanceof AutoCloseable c) {
      try {
        c.close();
      } catch (Exception ignored) {
        // A renderer that fails to close changes nothing about the result.
      }
    }
  }

  // ---------------------------------------------------------------------------------- download

  static int download(DownloadCommand d) {
    org.diskferry.transfer.LocalImage.checkTarget(d.file.toAbsolutePath(), d.force);
    return runDownload(d, dl -> dl.run(d.disk, d.file));
  }

  private static int runDownload(TransferCommand c, Function<GlanceDownload, GlanceResult> job) {
    TransferListener listener = c.listener();
    try {
      Session s = connect(c);
      GlanceDownload flow = new GlanceDownload(
          s.glance(), listener, JournalStore.fromEnvironment(c.cli().env), s.cloud().name())
          .retries(c.retries, c.retryDelayMillis)
          .bufferSize(c.checkedBufferSize());
      if (c.cli().signals) {
        Signals.install(sig -> flow.interrupt("interrupted by " + sig));
      }
      GlanceResult r = job.apply(flow);
      close(listener);
      print(c, s, r);
      return 0;
    } finally {
      close(listener);
      c.closeLog();
    }
  }

  static void print(EngineCommand c, Session s, GlanceResult r) {
    GlanceImage i = r.image();
    if (c.json()) {
      Map<String, Object> o = new LinkedHashMap<>();
      o.put("command", r.upload() ? "upload" : "download");
      o.put("cloud", s.cloud().name());
      o.put("image_id", i.id());
      o.put("name", i.name());
      o.put("status", i.status());
      o.put("disk_format", i.diskFormat());
      o.put("bytes", r.bytes());
      o.put("seconds", Math.round(r.seconds() * 1000) / 1000.0);
      if (r.method() != null) {
        o.put("method", r.method());
      }
      Map<String, Object> sum = new LinkedHashMap<>();
      if (r.md5() != null) {
        sum.put("md5", r.md5());
      }
      if (r.sha512() != null) {
        sum.put("sha512", r.sha512());
      }
      sum.put("verified", r.verified());
      o.put("checksum", sum);
      o.put("file", String.valueOf(r.file()));
      c.printJson(o);
    } else {
      double mib = r.bytes() / (1024.0 * 1024.0);
      String what = r.upload()
          ? "uploaded " + r.file() + " to image " + i.id() + " (" + i.name() + ", "
              + i.diskFormat() + ")"
          : "downloaded image " + i.id() + " (" + i.name() + ") to " + r.file();
      c.out().printf("%s: %s in %.1f s, %.1f MiB/s%s%n", what, ByteSizes.format(r.bytes()),
          r.seconds(), r.seconds() > 0 ? mib / r.seconds() : 0.0,
          r.verified() ? ", checksum verified" : ", not verified (no checksum)");
    }
  }

  // ------------------------------------------------------------------------------------ resume

  /** Journals of Glance downloads from {@code cloud} (any cloud when null). */
  static List<Journal> journals(JournalStore store, String cloud) {
    List<Journal> out = new ArrayList<>();
    for (Journal j : store.list()) {
      if (isGlance(j) && (cloud == null
          || j.endpoint().equals(GlanceDownload.JOURNAL_PREFIX + cloud))) {
        out.add(j);
      }
    }
    return out;
  }

  static boolean isGlance(Journal j) {
    return j.endpoint() != null && j.endpoint().startsWith(GlanceDownload.JOURNAL_PREFIX);
  }

  static int resume(ResumeCommand r, List<Journal> todo) {
    if (todo.isEmpty()) {
      r.out().println("nothing to resume");
      return 0;
    }
    int worst = 0;
    for (Journal j : todo) {
      if (cloudName(r) == null) {
        // The journal knows its cloud.
        r.connection.openstack.cloud = j.endpoint().substring(GlanceDownload.JOURNAL_PREFIX.length());
      }
      try {
        runDownload(r, dl -> dl.resume(j));
      } catch (DiskferryException e) {
        if (todo.size() == 1) {
          throw e;
        }
        r.err().println("diskferry: error: " + e.getMessage());
        worst = Math.max(worst, e.kind().exitCode());
      }
    }
    return worst;
  }

  // ------------------------------------------------------------------- status, cancel and list

  static int status(StatusCommand st) {
    JournalStore store = JournalStore.fromEnvironment(st.cli().env);
    try {
      Session s = connect(st);
      List<Map<String, Object>> rows = new ArrayList<>();
      List<Journal> journals = journals(store, s.cloud().name());
      if (st.transferId != null) {
        Optional<Journal> j = journals.stream()
            .filter(x -> x.transferId().equals(st.transferId)).findFirst();
        GlanceImage image = j.isPresent()
            ? s.glance().find(st.transferId).orElse(null)
            : s.glance().resolve(st.transferId);
        rows.add(row(image, j.orElse(null), st.transferId));
      } else {
        List<GlanceImage> all = s.glance().list(null);
        for (GlanceImage i : all) {
          Journal j = journals.stream().filter(x -> x.diskId().equals(i.id())).findFirst()
              .orElse(null);
          if (i.inProgress() || j != null) {
            rows.add(row(i, j, i.id()));
          }
        }
        for (Journal j : journals) {
          if (rows.stream().noneMatch(r -> j.diskId().equals(r.get("image_id")))) {
            rows.add(row(null, j, j.diskId()));
          }
        }
      }
      if (st.json()) {
        st.printJson(st.transferId != null ? rows.get(0) : rows);
      } else if (rows.isEmpty()) {
        st.out().println("no unfinished uploads or downloads");
      } else {
        String fmt = "%-36s  %-24s  %-9s  %-10s  %-21s  %s%n";
        st.out().printf(fmt, "IMAGE", "NAME", "STATUS", "SIZE", "DOWNLOADED", "RESUMABLE");
        for (Map<String, Object> r : rows) {
          Object size = r.get("size");
          Object done = r.get("bytes_done");
          st.out().printf(fmt, r.get("image_id"), r.get("name") == null ? "-" : r.get("name"),
              r.get("status"), size == null ? "-" : ByteSizes.format((Long) size),
              done == null ? "-" : ByteSizes.format((Long) done),
              Boolean.TRUE.equals(r.get("resumable")) ? "yes" : "no");
        }
      }
      return 0;
    } finally {
      st.closeLog();
    }
  }

  private static Map<String, Object> row(GlanceImage i, Journal j, String id) {
    Map<String, Object> o = new LinkedHashMap<>();
    o.put("image_id", i != null ? i.id() : id);
    o.put("name", i == null ? null : i.name());
    o.put("status", i == null ? "gone" : i.status());
    o.put("size", i == null ? (j == null ? null : j.size()) : i.size());
    o.put("disk_format", i == null ? null : i.diskFormat());
    o.put("checksum", i == null ? null : i.checksum());
    o.put("os_hash_algo", i == null ? null : i.hashAlgo());
    o.put("os_hash_value", i == null ? null : i.hashValue());
    o.put("journal", j != null);
    if (j != null) {
      o.put("direction", "download");
      o.put("bytes_done", j.bytesDone());
      o.put("local_path", j.localPath());
    }
    o.put("resumable", j != null && i != null && "active".equals(i.status()));
    return o;
  }

  static int cancel(CancelCommand cc) {
    JournalStore store = JournalStore.fromEnvironment(cc.cli().env);
    try {
      Session s = connect(cc);
      Optional<Journal> journal = journals(store, s.cloud().name()).stream()
          .filter(x -> x.transferId().equals(cc.transferId)).findFirst();
      Optional<GlanceImage> image = journal.isPresent()
          ? s.glance().find(cc.transferId)
          : Optional.of(s.glance().resolve(cc.transferId));
      boolean deleted = false;
      if (image.isPresent() && journal.isEmpty()) {
        GlanceImage i = image.get();
        if (!i.inProgress()) {
          throw DiskferryException.conflict(
              "image " + i.id() + " is " + i.status() + "; cancel only deletes unfinished uploads"
                  + " (queued, saving, uploading, importing)");
        }
        deleted = s.glance().delete(i.id());
      }
      journal.ifPresent(j -> {
        store.delete(j.transferId());
        try {
          java.nio.file.Files.deleteIfExists(j.partFile());
        } catch (java.io.IOException e) {
          cc.cli().warn("cannot remove " + j.partFile() + ": " + e.getMessage());
        }
      });
      String id = image.map(GlanceImage::id).orElse(cc.transferId);
      if (cc.json()) {
        Map<String, Object> o = new LinkedHashMap<>();
        o.put("command", "cancel");
        o.put("image_id", id);
        o.put("status", image.map(GlanceImage::status).orElse("gone"));
        o.put("image_deleted", deleted);
        o.put("journal_removed", journal.isPresent());
        cc.printJson(o);
      } else if (deleted) {
        cc.out().println("deleted unfinished image " + id + " (was "
            + image.get().status() + ")");
      } else {
        cc.out().println("cancelled the download of image " + id
            + "; removed its journal and partial file");
      }
      return 0;
    } finally {
      cc.closeLog();
    }
  }

  static int list(ListCommand l) {
    try {
      Session s = connect(l);
      List<GlanceImage> images = s.glance().list(null);
      if (l.json()) {
        List<Map<String, Object>> out = new ArrayList<>();
        for (GlanceImage i : images) {
          Map<String, Object> o = new LinkedHashMap<>();
          o.put("id", i.id());
          o.put("name", i.name());
          o.put("status", i.status());
          o.put("size", i.size());
          o.put("disk_format", i.diskFormat());
          o.put("container_format", i.containerFormat());
          o.put("visibility", i.visibility());
          o.put("checksum", i.checksum());
          o.put("os_hash_algo", i.hashAlgo());
          o.put("os_hash_value", i.hashValue());
          out.add(o);
        }
        l.printJson(out);
      } else {
        String fmt = "%-36s  %-24s  %-8s  %10s  %-6s  %-9s  %s%n";
        l.out().printf(fmt, "ID", "NAME", "STATUS", "SIZE", "FORMAT", "CONTAINER", "CHECKSUM");
        for (GlanceImage i : images) {
          l.out().printf(fmt, i.id(), i.name() == null ? "-" : i.name(), i.status(),
              i.size() == null ? "-" : ByteSizes.format(i.size()),
              i.diskFormat() == null ? "-" : i.diskFormat(),
              i.containerFormat() == null ? "-" : i.containerFormat(),
              i.checksum() == null ? "-" : i.checksum());
        }
      }
      return 0;
    } finally {
      l.closeLog();
    }
  }
}
