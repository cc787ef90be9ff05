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
    CloudConfig cloud = CloudsYaml.fromEnvironment(c.cli().env).resolve(name, c.cli()::warn);
    boolean insecure = c.connection.insecure || !cloud.verify();
    Path ca = c.connection.cafile != null ? c.connection.cafile : cloud.cacert();
    if (insecure) {
      c.cli().warn((c.connection.insecure ? "--insecure" : "verify: false in cloud '" + name + "'")
          + ": TLS certificates are NOT verified; anyone on the path can read and change the"
          + " data");
    }
    OkHttpClient http = HttpClientFactory.create(
        new TlsOptions(insecure ? null : ca, insecure), c.verbosity() >= 2 ? c.log(2) : null,
        c.timeout());
    c.log(1).accept("contacting cloud '" + name + "' at "
        + (cloud.imageEndpointOverride() != null ? cloud.imageEndpointOverride() : cloud.authUrl())
        + " (timeout " + (c.connection.timeout == null ? "10 s to connect, 60 s to answer"
            : c.connection.timeout + " s") + ")");
    return new Session(cloud, GlanceClient.connect(http, cloud));
  }

  // ------------------------------------------------------------------------------------ upload

  static int upload(UploadCommand u) {
    Map<String, String> props = u.image.properties;
    if (props.containsKey("")) {
      throw DiskferryException.badInput("--property wants KEY=VALUE, not '=" + props.get("") + "'");
    }
    String format = OptionTypes.wire(u.image.diskFormat);
    if (u.image.forceDiskFormat && format == null) {
      throw DiskferryException.badInput("--force-disk-format needs --disk-format");
    }
    GlanceUpload.checkProperties(props);
    // Bad input fails before logging in and creates nothing.
    format = GlanceUpload.diskFormatFor(u.file, format, u.image.forceDiskFormat);
    TransferListener listener = u.listener();
    GlanceUpload.Spec spec = new GlanceUpload.Spec(
        u.file, u.name != null ? u.name : UploadCommand.defaultName(u.file), format,
        OptionTypes.wire(u.image.visibility), props, u.image.useImport, u.image.keepOnFailure,
        u.retries, bufferSize(u, UPLOAD_BUFFERS, listener));
    Session s = connect(u);
    GlanceUpload flow = new GlanceUpload(s.glance(), listener);
    if (u.cli().signals) {
      Signals.install(sig -> flow.interrupt("interrupted by " + sig));
    }
    print(u, s, flow.run(spec));
    return 0;
  }

  /** Buffers of the Glance path on the heap at once: the digest ring (and a download's zeros). */
  private static final int UPLOAD_BUFFERS = 4;

  private static final int DOWNLOAD_BUFFERS = 5;

  /** --buffer-size, made smaller (with a warning) when that many buffers would not fit the heap. */
  private static int bufferSize(TransferCommand c, int buffers, TransferListener listener) {
    int asked = c.checkedBufferSize();
    int fitted = org.diskferry.transfer.BufferBudget.fit(
        asked, buffers, org.diskferry.transfer.BufferBudget.heap());
    if (fitted < asked) {
      listener.warn(org.diskferry.transfer.BufferBudget.warning(asked, buffers, fitted,
          "buffers"));
    }
    return fitted;
  }

  // ---------------------------------------------------------------------------------- download

  static int download(DownloadCommand d) {
    org.diskferry.transfer.LocalImage.checkTarget(d.file.toAbsolutePath(), d.force);
    return runDownload(d, dl -> dl.force(d.force).run(d.disk, d.file));
  }

  private static int runDownload(TransferCommand c, Function<GlanceDownload, GlanceResult> job) {
    TransferListener listener = c.listener();
    Session s = connect(c);
    GlanceDownload flow = new GlanceDownload(
        s.glance(), listener, JournalStore.fromEnvironment(c.cli().env), s.cloud().name())
        .retries(c.retries, c.retryDelayMillis)
        .bufferSize(bufferSize(c, DOWNLOAD_BUFFERS, listener));
    if (c.cli().signals) {
      Signals.install(
          sig -> flow.interrupt("interrupted by " + sig),
          sig -> "interrupted again by " + sig + "; the partial file and its journal are kept"
              + ": '" + c.cli().command("resume", "--all") + "' continues",
          c.cli()::error);
    }
    print(c, s, job.apply(flow));
    return 0;
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

  /** The cloud a Glance download's journal belongs to. */
  static String cloudOf(Journal j) {
    return j.endpoint().substring(GlanceDownload.JOURNAL_PREFIX.length());
  }

  /**
   * The journal named by {@code id}: a journal id (a transfer id, or a Glance download's
   * IMAGE.TARGET key), else the one interrupted Glance download of image {@code id}.
   *
   * @throws DiskferryException NOT_FOUND when there is none; BAD_INPUT when several downloads of
   *     that image are interrupted (their ids are listed)
   */
  static Journal journal(JournalStore store, String id) {
    Optional<Journal> exact = store.load(id);
    if (exact.isPresent()) {
      return exact.get();
    }
    List<Journal> ofImage =
        store.list().stream().filter(j -> isGlance(j) && j.diskId().equals(id)).toList();
    if (ofImage.size() == 1) {
      return ofImage.get(0);
    }
    if (ofImage.size() > 1) {
      throw ambiguous(id, ofImage);
    }
    throw DiskferryException.notFound(
        "no journal of transfer " + id + " in " + store.dir() + "; nothing to resume");
  }

  /**
   * Resumes Glance downloads, each with the cloud its journal recorded unless one is selected.
   *
   * @param keepGoing report a failure and go on with the next journal (resume --all), instead of
   *     throwing it
   */
  static int resume(ResumeCommand r, List<Journal> todo, boolean keepGoing) {
    String selected = cloudName(r);
    if (todo.isEmpty()) {
      r.out().println("nothing to resume");
      return 0;
    }
    int worst = 0;
    String before = r.connection.openstack.cloud;
    try {
      for (Journal j : todo) {
        // The journal knows its cloud.
        r.connection.openstack.cloud = selected != null ? before : cloudOf(j);
        try {
          runDownload(r, dl -> dl.force(r.force).resume(j));
        } catch (DiskferryException e) {
          if (!keepGoing) {
            throw e;
          }
          r.cli().error(r.cli().describe(e));
          worst = Math.max(worst, e.kind().exitCode());
        }
      }
    } finally {
      r.connection.openstack.cloud = before;
    }
    return worst;
  }

  /** BAD_INPUT: several interrupted downloads of one image; lists their journal ids and files. */
  private static DiskferryException ambiguous(String imageId, List<Journal> journals) {
    return DiskferryException.badInput(
        journals.size() + " interrupted downloads of image " + imageId + ": give one of "
            + String.join(", ", journals.stream()
                .map(j -> j.transferId() + " (" + j.localPath() + ")").toList()));
  }

  /** The Glance journals of {@code cloud} that {@code id} names: by journal id or image id. */
  private static List<Journal> named(JournalStore store, String cloud, String id) {
    return journals(store, cloud).stream()
        .filter(x -> x.transferId().equals(id) || x.diskId().equals(id))
        .toList();
  }

  // ------------------------------------------------------------------- status, cancel and list

  static int status(StatusCommand st) {
    JournalStore store = JournalStore.fromEnvironment(st.cli().env);
    Session s = connect(st);
    List<Map<String, Object>> rows = new ArrayList<>();
    List<Journal> journals = journals(store, s.cloud().name());
    if (st.transferId != null) {
      List<Journal> named = named(store, s.cloud().name(), st.transferId);
      Optional<Journal> j = named.stream().findFirst();
      GlanceImage image = j.isPresent()
          ? s.glance().find(j.get().diskId()).orElse(null)
          : s.glance().resolve(st.transferId);
      rows.add(row(image, j.orElse(null), j.map(Journal::diskId).orElse(st.transferId)));
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
    return st.reportUnreadable(store.listing());
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
    Session s = connect(cc);
    List<Journal> named = named(store, s.cloud().name(), cc.transferId);
    if (named.size() > 1) {
      throw ambiguous(cc.transferId, named);
    }
    Optional<Journal> journal = named.stream().findFirst();
    Optional<GlanceImage> image = journal.isPresent()
        ? s.glance().find(journal.get().diskId())
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
  }

  static int list(ListCommand l) {
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
  }
}
