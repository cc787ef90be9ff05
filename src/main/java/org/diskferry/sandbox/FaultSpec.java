package org.diskferry.sandbox;

import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import java.util.logging.Level;
import java.util.logging.Logger;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Faults to inject into a {@link Sandbox}, parsed from the text of {@code diskferry sandbox
 * --faults}: a comma-separated list of rules {@code KIND[:PARAM=VALUE]...} and an optional
 * {@code seed=N}. See {@link #SYNTAX}.
 *
 * <p>Rate decisions are replayable: whether the Nth request a rule matches is faulted depends only
 * on the seed, the rule's position in the spec and N, so the same seed gives the same decisions for
 * the same sequence of requests, whatever the threads.
 */
public final class FaultSpec {
  private static final Logger LOG = Logger.getLogger(FaultSpec.class.getName());

  /** The syntax, as {@code diskferry sandbox --help} and the man page show it. */
  public static final String SYNTAX =
      "SPEC: comma-separated rules KIND[:PARAM=VALUE]..., and seed=N if wanted.\n"
      + "  reset[:after=SIZE][:rate=R][:on=SEL]\n"
      + "      reset the connection (TCP RST) after SIZE body bytes (default 0)\n"
      + "  status[:code=N][:retry-after=S][:rate=R][:on=SEL]\n"
      + "      answer HTTP N (400-599, default 503), with Retry-After: S if given\n"
      + "  stall:ms=N[:rate=R][:on=SEL]\n"
      + "      wait N ms, then handle the request\n"
      + "  expire:after=N\n"
      + "      expire a transfer's ticket after its Nth data request (403 until the\n"
      + "      engine renews the ticket)\n"
      + "  pause:after=N\n"
      + "      move a transfer to paused_system after its Nth data request\n"
      + "  lose-ticket:after=N\n"
      + "      the host forgets a download's ticket after the transfer's Nth data\n"
      + "      request (an imageio restart): the engine moves it to cancelled_system\n"
      + "  restart:after=N\n"
      + "      restart the data plane once, after the Nth data request of all\n"
      + "      transfers: listener and connections drop, tickets survive\n"
      + "  idle-close:ms=N\n"
      + "      close idle keep-alive data connections after N ms instead of the\n"
      + "      transfer's inactivity timeout\n"
      + "  seed=N\n"
      + "      seed of the rate decisions (default: random, printed at start)\n"
      + "R: fraction of the matching requests, 0 to 1 (default 1). SIZE: bytes, or\n"
      + "with a K, M or G suffix. SEL: put, get, patch, options, api, backup joined\n"
      + "by '|' (default put|get|patch|options: every data-plane request; api: the\n"
      + "engine API and SSO; backup: the VM backup and checkpoint API, /vms/ID/backups\n"
      + "and /vms/ID/checkpoints). A data request is one to /images/TICKET. When several rules\n"
      + "match a request, the first that fires acts. Same seed, same decisions.\n"
      + "Example:\n"
      + "  reset:after=1M:rate=0.1,status:code=503:rate=0.2:retry-after=1,seed=42";

  /** The kinds of rule. */
  public enum Kind {
    RESET("reset", Set.of("after", "rate", "on")),
    STATUS("status", Set.of("code", "retry-after", "rate", "on")),
    STALL("stall", Set.of("ms", "rate", "on")),
    EXPIRE("expire", Set.of("after")),
    PAUSE("pause", Set.of("after")),
    LOSE_TICKET("lose-ticket", Set.of("after")),
    RESTART("restart", Set.of("after")),
    IDLE_CLOSE("idle-close", Set.of("ms"));

    final String text;
    final Set<String> params;

    Kind(String text, Set<String> params) {
      this.text = text;
      this.params = params;
    }

    /** The name in a spec, e.g. {@code idle-close}. */
    public String text() {
      return text;
    }

    /** Rules of this kind act on each request (rather than on a count of them). */
    boolean perRequest() {
      return this == RESET || this == STATUS || this == STALL;
    }

    static Kind of(String s) {
      for (Kind k : values()) {
        if (k.text.equals(s)) {
          return k;
        }
      }
      return null;
    }
  }

  /** Which requests a rule with {@code on=} matches: data-plane methods, or the engine API. */
  public enum Target {
    PUT,
    GET,
    PATCH,
    OPTIONS,
    API,
    /** The VM backup and checkpoint API only: {@code /vms/ID/backups…}, {@code /vms/ID/checkpoints…}. */
    BACKUP
  }

  private static final Pattern BACKUP_PATH =
      Pattern.compile("/ovirt-engine/api(/v4)?/vms/[^/]+/(backups|checkpoints)(/.*)?");

  private static final Set<Target> DATA_PLANE =
      Collections.unmodifiableSet(EnumSet.of(Target.PUT, Target.GET, Target.PATCH, Target.OPTIONS));

  /**
   * One rule.
   *
   * @param text the rule as written
   * @param rate fraction of matching requests that are faulted (reset, status, stall)
   * @param on the requests the rule matches (reset, status, stall)
   * @param bytes reset: body bytes before the reset
   * @param code status: the status answered
   * @param retryAfter status: Retry-After seconds, -1 for none
   * @param millis stall, idle-close: milliseconds
   * @param after expire, pause, restart: the data request after which it acts
   */
  public record Rule(
      Kind kind,
      String text,
      double rate,
      Set<Target> on,
      long bytes,
      int code,
      long retryAfter,
      long millis,
      long after) {}

  private static final long MAX_MILLIS = Integer.MAX_VALUE;
  private static final Pattern SIZE = Pattern.compile("(\\d{1,19})([KMG]?)", Pattern.CASE_INSENSITIVE);

  private final List<Rule> rules;
  private final long seed;
  private final boolean seedGiven;

  private FaultSpec(List<Rule> rules, long seed, boolean seedGiven) {
    this.rules = List.copyOf(rules);
    this.seed = seed;
    this.seedGiven = seedGiven;
  }

  public List<Rule> rules() {
    return rules;
  }

  /** The seed: the given one, or a random one chosen when parsed. */
  public long seed() {
    return seed;
  }

  public boolean seedGiven() {
    return seedGiven;
  }

  /** The spec with its seed, to replay the same decisions. */
  @Override
  public String toString() {
    StringBuilder sb = new StringBuilder();
    for (Rule r : rules) {
      sb.append(r.text()).append(',');
    }
    return sb.append("seed=").append(seed).toString();
  }

  /**
   * Parses a spec.
   *
   * @throws IllegalArgumentException with a one-line message naming the bad rule
   */
  public static FaultSpec parse(String spec) {
    if (spec == null || spec.isBlank()) {
      throw new IllegalArgumentException("empty fault spec");
    }
    List<Rule> rules = new ArrayList<>();
    Long seed = null;
    boolean idleClose = false;
    for (String raw : spec.split(",", -1)) {
      String item = raw.strip();
      if (item.isEmpty()) {
        throw new IllegalArgumentException("empty rule in fault spec '" + spec.strip() + "'");
      }
      if (item.startsWith("seed=") || item.equals("seed")) {
        if (seed != null) {
          throw bad(item, "seed given twice");
        }
        String v = item.substring(Math.min(item.length(), "seed=".length()));
        try {
          seed = Long.parseLong(v);
        } catch (NumberFormatException e) {
          throw bad(item, "seed must be an integer");
        }
        continue;
      }
      Rule r = parseRule(item);
      if (r.kind() == Kind.IDLE_CLOSE) {
        if (idleClose) {
          throw bad(item, "idle-close given twice");
        }
        idleClose = true;
      }
      rules.add(r);
    }
    if (rules.isEmpty()) {
      throw new IllegalArgumentException("fault spec '" + spec.strip() + "' has no rules");
    }
    return seed != null
        ? new FaultSpec(rules, seed, true)
        : new FaultSpec(rules, new SecureRandom().nextLong() & Long.MAX_VALUE, false);
  }

  private static IllegalArgumentException bad(String rule, String why) {
    return new IllegalArgumentException("bad fault rule '" + rule + "': " + why);
  }

  private static Rule parseRule(String item) {
    String[] parts = item.split(":", -1);
    Kind kind = Kind.of(parts[0]);
    if (kind == null) {
      throw bad(item, "unknown kind '" + parts[0] + "' (expected reset, status, stall, expire,"
          + " pause, lose-ticket, restart, idle-close or seed=N)");
    }
    Map<String, String> params = new LinkedHashMap<>();
    for (int i = 1; i < parts.length; i++) {
      String p = parts[i];
      int eq = p.indexOf('=');
      if (eq <= 0 || eq == p.length() - 1) {
        throw bad(item, "expected PARAM=VALUE, not '" + p + "'");
      }
      String name = p.substring(0, eq);
      if (!kind.params.contains(name)) {
        throw bad(item, kind.text + " has no parameter '" + name + "' (it takes "
            + String.join(", ", kind.params.stream().sorted().toList()) + ")");
      }
      if (params.put(name, p.substring(eq + 1)) != null) {
        throw bad(item, "'" + name + "' given twice");
      }
    }
    double rate = params.containsKey("rate") ? rate(item, params.get("rate")) : 1.0;
    Set<Target> on = params.containsKey("on") ? targets(item, params.get("on")) : DATA_PLANE;
    long bytes = 0;
    int code = 0;
    long retryAfter = -1;
    long millis = 0;
    long after = 0;
    switch (kind) {
      case RESET:
        bytes = params.containsKey("after") ? size(item, params.get("after")) : 0;
        break;
      case STATUS:
        code = params.containsKey("code") ? (int) number(item, "code", params.get("code"), 400, 599) : 503;
        if (params.containsKey("retry-after")) {
          retryAfter = number(item, "retry-after", params.get("retry-after"), 0, 86_400);
        }
        break;
      case STALL:
      case IDLE_CLOSE:
        millis = number(item, "ms", required(item, kind, params, "ms"), 1, MAX_MILLIS);
        break;
      default: // EXPIRE, PAUSE, LOSE_TICKET, RESTART
        after = number(item, "after", required(item, kind, params, "after"), 1, Long.MAX_VALUE);
        break;
    }
    return new Rule(kind, item, rate, on, bytes, code, retryAfter, millis, after);
  }

  private static String required(String item, Kind kind, Map<String, String> params, String name) {
    String v = params.get(name);
    if (v == null) {
      throw bad(item, kind.text + " needs " + name + "=N");
    }
    return v;
  }

  private static long number(String item, String name, String v, long min, long max) {
    long n;
    try {
      n = Long.parseLong(v);
    } catch (NumberFormatException e) {
      throw bad(item, name + " must be an integer, not '" + v + "'");
    }
    if (n < min || n > max) {
      throw bad(item, name + " must be between " + min + " and " + max);
    }
    return n;
  }

  private static double rate(String item, String v) {
    double r;
    try {
      r = Double.parseDouble(v);
    } catch (NumberFormatException e) {
      throw bad(item, "rate must be a number from 0 to 1, not '" + v + "'");
    }
    if (!(r >= 0 && r <= 1) || !v.matches("[0-9.]+")) {
      throw bad(item, "rate must be a number from 0 to 1, not '" + v + "'");
    }
    return r;
  }

  private static long size(String item, String v) {
    Matcher m = SIZE.matcher(v);
    if (!m.matches()) {
      throw bad(item, "after must be a size like 4096, 64K or 1M, not '" + v + "'");
    }
    int shift;
    switch (m.group(2).toUpperCase(Locale.ROOT)) {
      case "K":
        shift = 10;
        break;
      case "M":
        shift = 20;
        break;
      case "G":
        shift = 30;
        break;
      default:
        shift = 0;
    }
    long n;
    try {
      n = Long.parseLong(m.group(1));
    } catch (NumberFormatException e) {
      throw bad(item, "after is too large");
    }
    if (n > (Long.MAX_VALUE >> shift)) {
      throw bad(item, "after is too large");
    }
    return n << shift;
  }

  private static Set<Target> targets(String item, String v) {
    EnumSet<Target> set = EnumSet.noneOf(Target.class);
    for (String t : v.split("\\|", -1)) {
      Target target = null;
      for (Target x : Target.values()) {
        if (x.name().toLowerCase(Locale.ROOT).equals(t)) {
          target = x;
        }
      }
      if (target == null) {
        throw bad(item, "on takes put, get, patch, options, api and backup joined by '|', not '" + v + "'");
      }
      set.add(target);
    }
    return Collections.unmodifiableSet(set);
  }

  /** A thread-safe hook that injects these faults into the sandbox; install it with {@link Sandbox#setFaultHook}. */
  public Injector toHook(Sandbox sandbox) {
    return new Injector(this, sandbox);
  }

  /** Installs these faults into the sandbox and returns the hook, for its counts. */
  public Injector install(Sandbox sandbox) {
    Injector i = toHook(sandbox);
    sandbox.setFaultHook(i);
    return i;
  }

  /**
   * SplitMix64's finalizer: a well-mixed 64-bit function of its input, so decisions need no
   * shared random generator (and no lock, and no dependence on thread order).
   */
  private static long mix(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  /** Whether the nth (from 0) request matched by rule i is faulted. */
  boolean decide(int i, long n, double rate) {
    if (rate >= 1) {
      return true;
    }
    if (rate <= 0) {
      return false;
    }
    long h = mix(mix(seed + 0x9e3779b97f4a7c15L * (i + 1)) + 0x9e3779b97f4a7c15L * (n + 1));
    return (h >>> 11) * 0x1.0p-53 < rate;
  }

  /** The fault hook of a spec: thread-safe; counts the faults it injected, per rule. */
  public static final class Injector implements FaultHook {
    private final FaultSpec spec;
    private final Sandbox sandbox;
    private final AtomicLong[] seen;
    private final AtomicLong[] injected;
    /** expire and pause: data requests per transfer, per rule. */
    private final List<Map<String, AtomicLong>> perTransfer = new ArrayList<>();
    private final int idleCloseMillis;
    private final int idleCloseRule;

    Injector(FaultSpec spec, Sandbox sandbox) {
      this.spec = spec;
      this.sandbox = sandbox;
      int n = spec.rules.size();
      this.seen = new AtomicLong[n];
      this.injected = new AtomicLong[n];
      int idleMs = 0;
      int idleRule = -1;
      for (int i = 0; i < n; i++) {
        seen[i] = new AtomicLong();
        injected[i] = new AtomicLong();
        perTransfer.add(new ConcurrentHashMap<>());
        Rule r = spec.rules.get(i);
        if (r.kind() == Kind.IDLE_CLOSE) {
          idleMs = (int) r.millis();
          idleRule = i;
        }
        if (sandbox == null && !r.kind().perRequest()) {
          throw new IllegalArgumentException(r.kind().text + " needs a sandbox");
        }
      }
      this.idleCloseMillis = idleMs;
      this.idleCloseRule = idleRule;
    }

    public FaultSpec spec() {
      return spec;
    }

    /** Faults injected so far, in all. */
    public long injected() {
      long n = 0;
      for (AtomicLong a : injected) {
        n += a.get();
      }
      return n;
    }

    /** Faults injected so far by the rules of this kind. */
    public long injected(Kind kind) {
      long n = 0;
      for (int i = 0; i < injected.length; i++) {
        if (spec.rules.get(i).kind() == kind) {
          n += injected[i].get();
        }
      }
      return n;
    }

    /** Faults injected so far, per rule (as written), in spec order. */
    public Map<String, Long> counts() {
      Map<String, Long> m = new LinkedHashMap<>();
      for (int i = 0; i < injected.length; i++) {
        m.merge(spec.rules.get(i).text(), injected[i].get(), Long::sum);
      }
      return m;
    }

    /** What this hook does to a request, as data-plane method or API. */
    private static Target target(Request r) {
      if (!r.dataPlane() && !r.listener().equals("daemon")) {
        return Target.API;
      }
      switch (r.method()) {
        case "PUT":
          return Target.PUT;
        case "GET":
        case "HEAD":
          return Target.GET;
        case "PATCH":
          return Target.PATCH;
        case "OPTIONS":
          return Target.OPTIONS;
        default:
          return null;
      }
    }

    @Override
    public Action onRequest(Request request) {
      Target t = target(request);
      if (t == null) {
        return null;
      }
      Action action = null;
      for (int i = 0; i < seen.length; i++) {
        Rule r = spec.rules.get(i);
        if (!r.kind().perRequest() || !(r.on().contains(t) || t == Target.API
            && r.on().contains(Target.BACKUP) && BACKUP_PATH.matcher(request.path()).matches())) {
          continue;
        }
        long n = seen[i].getAndIncrement();
        if (action != null || !spec.decide(i, n, r.rate())) {
          continue; // every matching request counts, so later decisions do not shift
        }
        injected[i].incrementAndGet();
        switch (r.kind()) {
          case RESET:
            action = Action.resetAfter(r.bytes());
            break;
          case STATUS:
            action =
                r.retryAfter() >= 0
                    ? Action.respond(r.code(), null, Map.of("retry-after", Long.toString(r.retryAfter())))
                    : Action.respond(r.code(), null);
            break;
          default: // STALL
            action = Action.stall(Duration.ofMillis(r.millis()));
            break;
        }
      }
      return action;
    }

    @Override
    public void afterRequest(Request request, int status) {
      if (sandbox == null || !request.dataPlane()) {
        return;
      }
      Optional<String> transfer = Optional.empty();
      boolean looked = false;
      for (int i = 0; i < seen.length; i++) {
        Rule r = spec.rules.get(i);
        Kind k = r.kind();
        if (k != Kind.EXPIRE && k != Kind.PAUSE && k != Kind.LOSE_TICKET && k != Kind.RESTART) {
          continue;
        }
        if (!looked) {
          transfer = sandbox.transferOfPath(request.path());
          looked = true;
        }
        if (transfer.isEmpty()) {
          return; // not a data request: no such ticket (any more)
        }
        String id = transfer.get();
        if (k == Kind.RESTART) {
          if (seen[i].incrementAndGet() == r.after()) {
            restart(injected[i]);
          }
          continue;
        }
        long n = perTransfer.get(i).computeIfAbsent(id, x -> new AtomicLong()).incrementAndGet();
        if (n != r.after()) {
          continue;
        }
        boolean done =
            k == Kind.EXPIRE
                ? sandbox.expireTicket(id)
                : k == Kind.PAUSE ? sandbox.pauseSystem(id) : loseDownloadTicket(id);
        if (done) {
          injected[i].incrementAndGet();
        }
      }
    }

    /**
     * Removes a running download's ticket, as an imageio restart loses it; the engine's next poll
     * then moves the transfer to cancelled_system. Uploads are left alone: this sandbox does not
     * add a lost ticket again when a paused upload is resumed (use pause:after=N for those).
     */
    private boolean loseDownloadTicket(String id) {
      synchronized (sandbox.lock) {
        Transfer t = sandbox.transfers.get(id);
        if (t == null || !t.download || t.ticket == null) {
          return false;
        }
        sandbox.removeTicket(t);
        return true;
      }
    }

    /** On another thread: the restart waits for the data plane's connection threads, this one too. */
    private void restart(AtomicLong count) {
      Thread t =
          new Thread(
              () -> {
                try {
                  if (sandbox.restartDataPlane()) {
                    count.incrementAndGet();
                  }
                } catch (RuntimeException e) {
                  LOG.log(Level.WARNING, "sandbox data-plane restart failed", e);
                }
              },
              "sandbox-fault-restart");
      t.setDaemon(true);
      t.start();
    }

    @Override
    public int idleCloseMillis() {
      return idleCloseMillis;
    }

    @Override
    public void idleClosed(String listener) {
      if (idleCloseRule >= 0) {
        injected[idleCloseRule].incrementAndGet();
      }
    }
  }
}
