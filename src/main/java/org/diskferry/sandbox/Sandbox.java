package org.diskferry.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileVisitResult;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.SimpleFileVisitor;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.logging.Level;
import java.util.logging.Logger;
import javax.net.ssl.SSLContext;
import okhttp3.tls.HandshakeCertificates;
import okhttp3.tls.HeldCertificate;
import org.diskferry.http.Json;

/**
 * A local oVirt-compatible endpoint: the engine REST API subset used for disk transfers plus the
 * ovirt-imageio data plane, storing disks as sparse files. Listens on 127.0.0.1 only.
 *
 * <p>Two listeners: the engine listener (API, SSO, pki-resource, and the imageio proxy at
 * {@code /images/<ticket>}) and the imageio daemon listener ({@code /images/<ticket>},
 * {@code /info/}).
 */
public final class Sandbox implements AutoCloseable {
  private static final Logger LOG = Logger.getLogger(Sandbox.class.getName());
  static final int MAX_CONNECTIONS = 64;
  static final String USERNAME = "admin@internal";
  static final String SD_NAME = "data";
  static final String SD_BLOCK_NAME = "data-block";

  // Fixed inventory ids, stable across restarts on the same data directory.
  static final String SD_ID = stableId("storagedomain/data");
  static final String SD_BLOCK_ID = stableId("storagedomain/data-block");
  static final String HOST_ID = stableId("host/host1");
  static final String DC_ID = stableId("datacenter/dc1");
  static final String CLUSTER_ID = stableId("cluster/Default");
  static final String DISK_PROFILE_ID = stableId("diskprofile/data");
  static final String DISK_PROFILE_BLOCK_ID = stableId("diskprofile/data-block");

  final SandboxConfig config;
  private final Path dataDir;
  private final boolean ownsDataDir;
  final Path disksDir;
  private final String password;
  private final Path caFile;
  final String caPem;
  final String serverCertPem;
  final long tickNanos;

  /** Guards disks, transfers and their mutable fields. */
  final Object lock = new Object();
  final Map<String, Disk> disks = new LinkedHashMap<>();
  final Map<String, Transfer> transfers = new LinkedHashMap<>();
  final Map<String, Ticket> tickets = new ConcurrentHashMap<>();
  final Map<String, Boolean> tokens = new ConcurrentHashMap<>();
  final Map<String, Boolean> sessions = new ConcurrentHashMap<>();
  /** VMs, their backups and checkpoints. */
  final VmBackups vmBackups;

  private final EngineApi engineApi;
  private final ImageioService imageio;
  private final HttpServer engineServer;
  private volatile HttpServer daemonServer;
  private final int daemonPort;
  private final ScheduledExecutorService poller;
  private final SSLContext ssl;
  /** Serializes stopping and restarting the daemon listener. */
  private final Object daemonLock = new Object();
  private volatile FaultHook faultHook;
  private volatile boolean closed;

  private Sandbox(SandboxConfig config) throws IOException {
    this.config = config;
    this.tickNanos = config.tick().toNanos();
    if (config.dataDir() == null) {
      this.dataDir = Files.createTempDirectory("diskferry-sandbox-");
      this.ownsDataDir = true;
    } else {
      this.dataDir = config.dataDir().toAbsolutePath();
      Files.createDirectories(dataDir);
      this.ownsDataDir = false;
    }
    this.disksDir = dataDir.resolve("disks");
    Files.createDirectories(disksDir);
    this.password = config.password() != null ? config.password() : randomSecret(18);
    loadDisks();
    Path backupsDir = dataDir.resolve("backups");
    if (Files.exists(backupsDir)) {
      deleteTree(backupsDir); // copies of backups that ended with an earlier run
    }
    this.vmBackups = new VmBackups(this, backupsDir);
    try {
      vmBackups.create(config.vms());
    } catch (IOException | RuntimeException e) {
      if (ownsDataDir) {
        deleteTree(dataDir);
      }
      throw e;
    }

    SSLContext ssl = null;
    if (config.plainHttp()) {
      this.caFile = null;
      this.caPem = null;
      this.serverCertPem = null;
    } else {
      HeldCertificate ca = loadOrCreateCa();
      HeldCertificate server =
          new HeldCertificate.Builder()
              .commonName("127.0.0.1")
              .addSubjectAlternativeName("127.0.0.1")
              .addSubjectAlternativeName("localhost")
              .duration(825, TimeUnit.DAYS)
              .signedBy(ca)
              .build();
      HandshakeCertificates hc =
          new HandshakeCertificates.Builder().heldCertificate(server, ca.certificate()).build();
      ssl = hc.sslContext();
      this.caPem = ca.certificatePem();
      this.serverCertPem = server.certificatePem();
      this.caFile = dataDir.resolve("ca.pem");
      Files.writeString(caFile, caPem, StandardCharsets.US_ASCII);
    }

    this.engineApi = new EngineApi(this);
    this.imageio = new ImageioService(this);
    HttpServer engine = null;
    HttpServer daemon = null;
    try {
      engine =
          new HttpServer(
              "engine", config.port(), ssl, MAX_CONNECTIONS, this::dispatch, () -> faultHook);
      daemon = new HttpServer("daemon", 0, ssl, MAX_CONNECTIONS, this::dispatch, () -> faultHook);
    } catch (IOException e) {
      if (engine != null) {
        engine.close();
      }
      if (ownsDataDir) {
        deleteTree(dataDir);
      }
      throw e;
    }
    this.ssl = ssl;
    this.engineServer = engine;
    this.daemonServer = daemon;
    this.daemonPort = daemon.port();
    this.poller =
        Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "sandbox-engine-poller");
              t.setDaemon(true);
              return t;
            });
    poller.scheduleWithFixedDelay(this::tick, tickNanos, tickNanos, TimeUnit.NANOSECONDS);
  }

  /** Starts a sandbox; it serves until {@link #close()}. */
  public static Sandbox start(SandboxConfig config) throws IOException {
    return new Sandbox(config == null ? SandboxConfig.defaults() : config);
  }

  // ---- public API ----

  public String engineUrl() {
    return scheme() + "://127.0.0.1:" + engineServer.port();
  }

  String daemonUrl() {
    return scheme() + "://127.0.0.1:" + daemonPort;
  }

  private String scheme() {
    return config.plainHttp() ? "http" : "https";
  }

  public String username() {
    return USERNAME;
  }

  public String password() {
    return password;
  }

  /** The CA certificate (PEM) that signs both listeners' certificates; null with plain HTTP. */
  public Path caFile() {
    return caFile;
  }

  public String storageDomainName() {
    return SD_NAME;
  }

  /** The DISKFERRY_* variables a client needs, in a stable order. */
  public Map<String, String> environment() {
    Map<String, String> env = new LinkedHashMap<>();
    env.put("DISKFERRY_ENGINE_URL", engineUrl());
    env.put("DISKFERRY_USERNAME", username());
    env.put("DISKFERRY_PASSWORD", password());
    if (caFile != null) {
      env.put("DISKFERRY_CAFILE", caFile.toString());
    }
    env.put("DISKFERRY_STORAGE_DOMAIN", storageDomainName());
    return Collections.unmodifiableMap(env);
  }

  public Path dataDir() {
    return dataDir;
  }

  public int enginePort() {
    return engineServer.port();
  }

  public int daemonPort() {
    return daemonPort;
  }

  /** The image file of a disk, if the disk exists. */
  public Optional<Path> diskFile(String diskId) {
    synchronized (lock) {
      Disk d = disks.get(diskId);
      return d == null ? Optional.empty() : Optional.of(d.file);
    }
  }

  /** The id of the VM with this name, if there is one. */
  public Optional<String> vmId(String name) {
    synchronized (lock) {
      return vmBackups.vms.values().stream().filter(v -> v.name.equals(name)).map(v -> v.id)
          .findFirst();
    }
  }

  /** The ids of the disks attached to the VM with this name, in order (empty if no such VM). */
  public List<String> vmDiskIds(String name) {
    synchronized (lock) {
      return vmBackups.vms.values().stream().filter(v -> v.name.equals(name))
          .findFirst().map(v -> v.diskIds).orElse(List.of());
    }
  }

  /** One line per VM: name, status, id and its disks (name=id). */
  public List<String> describeVms() {
    List<String> out = new ArrayList<>();
    synchronized (lock) {
      for (Vm vm : vmBackups.vms.values()) {
        StringBuilder line = new StringBuilder("VM " + vm.name + " (" + vm.status + ") " + vm.id
            + ":");
        for (String did : vm.diskIds) {
          Disk d = disks.get(did);
          line.append(' ').append(d.name).append('=').append(did).append(" (")
              .append(d.format.equals("cow") ? "qcow2" : "raw").append(')');
        }
        out.add(line.toString());
      }
    }
    return out;
  }

  /** The phase of a VM backup, while the engine still has it. */
  public Optional<String> backupPhase(String backupId) {
    synchronized (lock) {
      Backup b = vmBackups.backups.get(backupId);
      return b == null ? Optional.empty() : Optional.of(b.phase);
    }
  }

  /** "ok", "locked" or "illegal", if the disk exists. */
  public Optional<String> diskStatus(String diskId) {
    synchronized (lock) {
      Disk d = disks.get(diskId);
      return d == null ? Optional.empty() : Optional.of(statusOf(d, System.nanoTime()));
    }
  }

  /** The phase of a transfer, while the engine still has it. */
  public Optional<String> transferPhase(String transferId) {
    synchronized (lock) {
      Transfer t = transfers.get(transferId);
      return t == null ? Optional.empty() : Optional.of(t.phase);
    }
  }

  /**
   * Expires every SSO token issued so far, as the engine does when SSO sessions time out: API
   * requests with them get 401 until the client logs in again. Tickets (data plane) are not
   * affected. Returns how many tokens were expired.
   */
  public int expireTokens() {
    int n = tokens.size();
    tokens.clear();
    return n;
  }

  /** Installs (or with null removes) a fault hook consulted on every request. */
  public void setFaultHook(FaultHook hook) {
    this.faultHook = hook;
  }

  /** Expires the transfer's ticket now (the data plane answers 403 until the engine renews it). */
  public boolean expireTicket(String transferId) {
    synchronized (lock) {
      Transfer t = transfers.get(transferId);
      if (t == null || t.ticket == null) {
        return false;
      }
      t.ticket.expiresNanos = System.nanoTime() - 1;
      return true;
    }
  }

  /** Moves a transferring transfer to paused_system, as the engine does when it loses the ticket. */
  public boolean pauseSystem(String transferId) {
    synchronized (lock) {
      Transfer t = transfers.get(transferId);
      if (t == null || t.finished()) {
        return false;
      }
      setPhase(t, "paused_system", System.nanoTime());
      return true;
    }
  }

  /** Closes the imageio daemon listener: clients must fall back to proxy_url. */
  public void stopDaemon() {
    synchronized (daemonLock) {
      HttpServer d = daemonServer;
      daemonServer = null;
      if (d != null) {
        d.close();
      }
    }
  }

  /**
   * Restarts the data plane as an imageio restart does: the daemon listener closes with all its
   * connections, the proxy's connections that used a ticket are dropped, and the daemon listens
   * again on the same port. Tickets survive (the engine adds them again), so clients that
   * reconnect can go on. Returns false when the daemon was stopped or could not listen again.
   * Must not be called from a connection thread of the daemon listener (it waits for them).
   */
  public boolean restartDataPlane() {
    synchronized (daemonLock) {
      HttpServer old = daemonServer;
      if (old == null || closed) {
        return false;
      }
      daemonServer = null;
      old.close();
      engineServer.dropConnections(c -> c.ticket != null);
      IOException last = null;
      for (int attempt = 0; attempt < 50 && !closed; attempt++) {
        try {
          daemonServer =
              new HttpServer(
                  "daemon", daemonPort, ssl, MAX_CONNECTIONS, this::dispatch, () -> faultHook);
          return true;
        } catch (IOException e) {
          last = e;
          try {
            Thread.sleep(20);
          } catch (InterruptedException ie) {
            Thread.currentThread().interrupt();
            break;
          }
        }
      }
      LOG.log(Level.WARNING, "sandbox data plane did not come back on port " + daemonPort, last);
      return false;
    }
  }

  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    poller.shutdownNow();
    try {
      poller.awaitTermination(5, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    engineServer.close();
    stopDaemon();
    synchronized (lock) {
      for (Disk d : disks.values()) {
        try {
          d.saveMeta();
        } catch (IOException e) {
          LOG.log(Level.WARNING, "cannot save disk metadata " + d.id, e);
        }
        d.closeChannel();
      }
      tickets.clear();
    }
    if (ownsDataDir) {
      deleteTree(dataDir);
    }
  }

  // ---- request dispatch: the one place where faults are applied ----

  private void dispatch(Exchange ex) throws IOException {
    FaultHook hook = faultHook;
    if (hook == null) {
      route(ex);
      return;
    }
    FaultHook.Request request =
        new FaultHook.Request(
            ex.listener(), ex.method(), ex.path(), Collections.unmodifiableMap(ex.headers()));
    try {
      dispatch(ex, hook, request);
    } finally {
      if (ex.responded()) {
        try {
          ex.flush(); // the client has the answer before the hook acts on it
        } catch (IOException e) {
          // the connection is gone; the hook still learns about the request
        }
      }
      hook.afterRequest(request, ex.responded() ? ex.status() : 0);
    }
  }

  private void dispatch(Exchange ex, FaultHook hook, FaultHook.Request request)
      throws IOException {
    FaultHook.Action a = hook.onRequest(request);
    if (a != null) {
      switch (a.kind()) {
        case STALL:
          try {
            Thread.sleep(a.delay().toMillis());
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Exchange.AbortException("interrupted");
          }
          break;
        case RESET:
          if (a.afterBytes() <= 0) {
            ex.conn.reset();
            throw new Exchange.AbortException("connection reset by fault injection");
          }
          ex.resetAfter(a.afterBytes());
          break;
        case RESPOND:
          ex.closeAfter();
          Map<String, String> h = new LinkedHashMap<>();
          if (ex.path().startsWith("/images/") || ex.listener().equals("daemon")) {
            h.put("server", ImageioService.SERVER);
          }
          h.put("content-type", "text/plain; charset=UTF-8");
          h.putAll(a.headers());
          String msg = a.message() == null ? Exchange.reason(a.status()) : a.message();
          ex.send(a.status(), h, (msg + "\n").getBytes(StandardCharsets.UTF_8));
          return;
        default:
          break;
      }
    }
    route(ex);
  }

  private void route(Exchange ex) throws IOException {
    if (ex.listener().equals("daemon") || ex.path().startsWith("/images/")) {
      imageio.handle(ex);
    } else {
      engineApi.handle(ex);
    }
  }

  /** The transfer whose ticket a data-plane path names, if that ticket exists. */
  Optional<String> transferOfPath(String path) {
    if (!path.startsWith("/images/")) {
      return Optional.empty();
    }
    String rest = path.substring("/images/".length());
    int slash = rest.indexOf('/');
    Ticket k = tickets.get(slash < 0 ? rest : rest.substring(0, slash));
    return k == null ? Optional.empty() : Optional.of(k.transfer.id);
  }

  // ---- engine state ----

  /** The disk's status, turning a newly created disk ok once its creation delay has passed. */
  String statusOf(Disk d, long now) {
    if (d.readyAtNanos != 0 && now - d.readyAtNanos >= 0) {
      d.readyAtNanos = 0;
      if ("locked".equals(d.status) && d.lockHolder == null) {
        d.status = "ok";
      }
      d.metaDirty = true;
    }
    return d.status;
  }

  /** True when the disk may not be used by a new operation (being created, or held by a transfer). */
  boolean isLocked(Disk d, long now) {
    return "locked".equals(statusOf(d, now)) || d.lockHolder != null;
  }

  void setPhase(Transfer t, String phase, long now) {
    t.phase = phase;
    t.lastUpdatedMillis = System.currentTimeMillis();
    t.intervalNanos = tickNanos;
    t.nextPollNanos = now + tickNanos;
    if (t.finished()) {
      t.finishedAtNanos = now;
      removeTicket(t);
      if (t.id.equals(t.disk.lockHolder)) {
        t.disk.lockHolder = null;
      }
      if (config.legacyRemoval()) {
        transfers.remove(t.id);
      }
    }
  }

  /** Adds the ticket and moves the transfer to transferring. */
  void startSession(Transfer t, long now) {
    Disk d = t.disk;
    boolean fileBackend = t.format.equals("cow");
    long size;
    if (!fileBackend) {
      size = d.provisionedSize;
    } else if (t.download) {
      size = d.format.equals("cow") ? d.fileSize() : d.provisionedSize;
    } else if (d.format.equals("cow") && !isBlock(d.storageDomainId)) {
      size = (long) Math.ceil(d.provisionedSize * 1.1) + (1L << 20);
    } else {
      size = d.provisionedSize;
    }
    Ticket k =
        new Ticket(
            UUID.randomUUID().toString(), t, d, size, !t.download, fileBackend,
            t.inactivityTimeout);
    tickets.put(k.uuid, k);
    t.ticket = k;
    setPhase(t, "transferring", now);
  }

  /** Removes the ticket: new requests get 403, running ones stop at the next buffer. */
  void removeTicket(Transfer t) {
    Ticket k = t.ticket;
    if (k != null) {
      k.cancelled = true;
      tickets.remove(k.uuid);
      t.transferred = k.transferred();
      t.ticket = null;
    }
  }

  static boolean isBlock(String sdId) {
    return SD_BLOCK_ID.equals(sdId);
  }

  void removeDisk(Disk d) {
    disks.remove(d.id);
    try {
      d.deleteFiles();
    } catch (IOException e) {
      LOG.log(Level.WARNING, "cannot delete disk files of " + d.id, e);
    }
  }

  private void tick() {
    try {
      long now = System.nanoTime();
      List<Disk> dirty = new ArrayList<>();
      List<Backup> toCopy;
      synchronized (lock) {
        toCopy = vmBackups.tick(now);
        for (Disk d : disks.values()) {
          statusOf(d, now);
          if (d.metaDirty) {
            dirty.add(d);
          }
        }
        Iterator<Transfer> it = new ArrayList<>(transfers.values()).iterator();
        while (it.hasNext()) {
          Transfer t = it.next();
          if (t.finished()) {
            Duration keep =
                t.phase.equals("finished_success")
                    ? config.succeededCleanupDelay()
                    : config.failedCleanupDelay();
            if (config.legacyRemoval() || now - t.finishedAtNanos >= keep.toNanos()) {
              transfers.remove(t.id);
            }
            continue;
          }
          if (now - t.nextPollNanos < 0) {
            continue;
          }
          String before = t.phase;
          poll(t, now);
          if (t.phase.equals(before)) {
            t.intervalNanos = Math.min(t.intervalNanos * 2, 10 * tickNanos);
            t.nextPollNanos = now + t.intervalNanos;
          }
        }
      }
      if (!toCopy.isEmpty()) {
        Thread copier = new Thread(() -> vmBackups.takeCopies(toCopy), "sandbox-backup-copy");
        copier.setDaemon(true);
        copier.start();
      }
      for (Disk d : dirty) {
        try {
          d.saveMeta();
        } catch (IOException e) {
          LOG.log(Level.WARNING, "cannot save disk metadata " + d.id, e);
        }
      }
    } catch (RuntimeException e) {
      LOG.log(Level.WARNING, "engine poller failed", e);
    }
  }

  /** One engine poll of a transfer (TransferDiskImageCommand's state handler). */
  private void poll(Transfer t, long now) {
    Disk d = t.disk;
    switch (t.phase) {
      case "initializing":
        if (--t.initPollsLeft <= 0) {
          startSession(t, now);
        }
        break;
      case "transferring": {
        Ticket k = t.ticket;
        if (k == null) {
          setPhase(t, t.download ? "cancelled_system" : "paused_system", now);
          break;
        }
        if (k.expiresNanos - now < TimeUnit.SECONDS.toNanos(240)) {
          k.expiresNanos = now + Ticket.TIMEOUT_NANOS;
        }
        t.transferred = k.transferred();
        boolean active = k.active.get() > 0;
        long idle = active ? 0 : now - k.lastActivityNanos;
        if (t.inactivityTimeout > 0 && !active
            && idle > TimeUnit.SECONDS.toNanos(t.inactivityTimeout)) {
          String next;
          switch (t.timeoutPolicy) {
            case "pause":
              next = "paused_system";
              break;
            case "cancel":
              next = "cancelled_system";
              break;
            default:
              next = t.download ? "cancelled_system" : "paused_system";
          }
          setPhase(t, next, now);
          break;
        }
        if (t.download) {
          if (!active && t.transferred >= k.size) {
            if (++t.autoFinalizeStreak >= 2) {
              setPhase(t, "finalizing_success", now);
            }
          } else {
            t.autoFinalizeStreak = 0;
          }
        }
        break;
      }
      case "resuming":
        if (t.ticket != null) {
          t.ticket.expiresNanos = now + Ticket.TIMEOUT_NANOS;
          t.ticket.lastActivityNanos = now;
        }
        d.status = "locked";
        setPhase(t, "transferring", now);
        break;
      case "cancelled_user":
        setPhase(t, "finalizing_cleanup", now);
        break;
      case "cancelled_system":
        setPhase(t, "finalizing_failure", now);
        break;
      case "finalizing_cleanup":
        removeTicket(t);
        d.status = t.download ? "ok" : "illegal";
        setPhase(t, "finished_cleanup", now);
        break;
      case "finished_cleanup":
      case "finalizing_failure":
        removeTicket(t);
        if (t.download) {
          d.status = "ok";
          d.metaDirty = true;
        } else {
          removeDisk(d);
        }
        setPhase(t, "finished_failure", now);
        break;
      case "finalizing_success":
        if (!t.finalizeReady) {
          removeTicket(t);
          if (!t.download && !verify(t)) {
            d.status = "illegal";
            setPhase(t, "finalizing_failure", now);
            break;
          }
          d.status = "ok";
          d.metaDirty = true;
          t.finalizeReady = true;
        } else {
          setPhase(t, "finished_success", now);
        }
        break;
      default: // paused_*: nothing; the ticket is not renewed
        break;
    }
  }

  /**
   * vdsm's verify_untrusted_volume, reduced: FILE-backend (format=cow) uploads must carry the
   * disk's own format, and qcow2 must have no backing file. NBD (format=raw) uploads always pass.
   */
  private static boolean verify(Transfer t) {
    if (t.format.equals("raw")) {
      return true;
    }
    byte[] head = new byte[16];
    try {
      ByteBuffer bb = ByteBuffer.wrap(head);
      long pos = 0;
      while (bb.hasRemaining()) {
        int n = t.disk.channel().read(bb, pos);
        if (n < 0) {
          break;
        }
        pos += n;
      }
    } catch (IOException e) {
      return false;
    }
    boolean qcow2 = head[0] == 'Q' && head[1] == 'F' && head[2] == 'I' && head[3] == (byte) 0xfb;
    if (t.disk.format.equals("raw")) {
      return !qcow2;
    }
    return qcow2 && ByteBuffer.wrap(head, 8, 8).getLong() == 0;
  }

  // ---- persistence and setup ----

  private void loadDisks() throws IOException {
    try (DirectoryStream<Path> ds = Files.newDirectoryStream(disksDir, "*.json")) {
      for (Path p : ds) {
        try {
          JsonNode m = Json.mapper().readTree(p.toFile());
          Disk d = Disk.fromMeta(disksDir, m);
          if (Files.exists(d.file) && !d.id.isEmpty()) {
            disks.put(d.id, d);
          }
        } catch (IOException | RuntimeException e) {
          LOG.log(Level.WARNING, "ignoring unreadable disk metadata " + p, e);
        }
      }
    }
  }

  private HeldCertificate loadOrCreateCa() throws IOException {
    Path keyFile = dataDir.resolve("ca-key.pem");
    if (Files.exists(keyFile)) {
      try {
        return HeldCertificate.decode(Files.readString(keyFile, StandardCharsets.US_ASCII));
      } catch (RuntimeException e) {
        LOG.log(Level.WARNING, "regenerating the sandbox CA: cannot read " + keyFile, e);
      }
    }
    HeldCertificate ca =
        new HeldCertificate.Builder()
            .certificateAuthority(0)
            .commonName("diskferry sandbox CA")
            .organizationalUnit("diskferry")
            .duration(3650, TimeUnit.DAYS)
            .build();
    Files.deleteIfExists(keyFile);
    try {
      Files.createFile(keyFile, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")));
    } catch (UnsupportedOperationException e) {
      Files.createFile(keyFile);
    }
    Files.writeString(keyFile, ca.certificatePem() + ca.privateKeyPkcs8Pem(), StandardCharsets.US_ASCII);
    return ca;
  }

  static String stableId(String name) {
    return UUID.nameUUIDFromBytes(("diskferry-sandbox/" + name).getBytes(StandardCharsets.UTF_8))
        .toString();
  }

  static String randomSecret(int bytes) {
    byte[] b = new byte[bytes];
    new SecureRandom().nextBytes(b);
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b);
  }

  private static void deleteTree(Path root) {
    try {
      Files.walkFileTree(
          root,
          new SimpleFileVisitor<>() {
            @Override
            public FileVisitResult visitFile(Path file, BasicFileAttributes attrs) throws IOException {
              Files.deleteIfExists(file);
              return FileVisitResult.CONTINUE;
            }

            @Override
            public FileVisitResult postVisitDirectory(Path dir, IOException exc) throws IOException {
              Files.deleteIfExists(dir);
              return FileVisitResult.CONTINUE;
            }
          });
    } catch (IOException e) {
      LOG.log(Level.WARNING, "cannot delete " + root, e);
    }
  }
}
