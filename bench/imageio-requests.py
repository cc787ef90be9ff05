#!/usr/bin/env python3
"""Requests per connection and per transfer, from an ovirt-imageio daemon's log.

The daemon logs one CLOSE line per connection with its counters ([dispatch N ops, S s] is every
request it served, then [write ...], [read ...], [zero ...], [flush ...], [extents ...] each
with ops, seconds and bytes), and an ADD and a REMOVE line per ticket. Transfers that ran one
after another (as in bench/vs-imageio.sh) get the data connections opened between their ADD
and REMOVE. For each transfer this prints its kind, size and the time its ticket lived, then one
line per connection: requests, how long the connection lived and how long the server spent in
its requests, and the counts (and seconds) of each operation.

Usage: bench/imageio-requests.py DAEMON_LOG [TRANSFER_ID_PREFIX...]
"""
import ast
import re
import sys
from datetime import datetime

LINE = re.compile(r"^(\S+ \S+) \S+\s+\((Thread-\d+)")
ADD = re.compile(r"\[tickets\] \[local\] ADD transfer=(\{.*\})")
REMOVE = re.compile(r"\[tickets\] \[local\] REMOVE transfer=(\S+)")
OPEN = re.compile(r"\[http\] OPEN connection=(\d+) client=(\S+)")
CLOSE = re.compile(r"\[http\] CLOSE connection=(\d+) client=(\S+) (.*)")
STAT = re.compile(r"\[([a-z.]+) (\d+) ops, ([0-9.]+) s(?:, ([0-9.]+) ([KMG]i)?B)?")


def when(stamp):
    return datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S,%f").timestamp()


def main(path, prefixes):
    tickets = {}  # transfer id -> dict
    conns = {}  # connection -> dict
    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            m = LINE.match(line)
            if not m:
                continue
            t = when(m.group(1))
            if a := ADD.search(line):
                d = ast.literal_eval(a.group(1))
                tid = d.get("transfer_id", d["uuid"])
                tickets[tid] = {"id": tid, "added": t, "removed": None, "size": d["size"],
                                "ops": ",".join(d["ops"]), "conns": []}
            elif r := REMOVE.search(line):
                if r.group(1) in tickets:
                    tickets[r.group(1)]["removed"] = t
            elif o := OPEN.search(line):
                conns[o.group(1)] = {"id": int(o.group(1)), "client": o.group(2), "opened": t}
            elif c := CLOSE.search(line):
                conn = conns.setdefault(c.group(1), {"id": int(c.group(1)), "client": c.group(2),
                                                      "opened": t})
                conn["closed"] = t
                conn["stats"] = {s[0]: (int(s[1]), float(s[2])) for s in STAT.findall(c.group(3))}
    order = sorted(tickets.values(), key=lambda x: x["added"])
    for conn in conns.values():
        if conn["client"] == "local" or "stats" not in conn:
            continue  # the engine's control socket, or a connection still open
        for tk in order:
            end = tk["removed"] if tk["removed"] is not None else float("inf")
            if tk["added"] <= conn["opened"] <= end:
                tk["conns"].append(conn)
                break
    for tk in order:
        if prefixes and not any(tk["id"].startswith(p) for p in prefixes):
            continue
        if not tk["conns"]:
            continue
        life = (tk["removed"] or tk["conns"][-1]["closed"]) - tk["added"]
        total = sum(c["stats"].get("dispatch", (0, 0))[0] for c in tk["conns"])
        print(f"transfer {tk['id']} ({tk['ops']}, {tk['size'] / 2**20:.0f} MiB): ticket lived "
              f"{life:.1f} s, {len(tk['conns'])} connections, {total} requests")
        for c in sorted(tk["conns"], key=lambda x: x["id"]):
            s = c["stats"]
            n, busy = s.get("dispatch", (0, 0.0))
            ops = " ".join(f"{k} {v[0]} ({v[1]:.2f} s)" for k, v in s.items()
                           if k in ("write", "read", "zero", "flush", "extents", "options"))
            print(f"  connection {c['id']:>4}: {n:>5} requests, open {c['closed'] - c['opened']:6.2f} s, "
                  f"in requests {busy:6.2f} s; {ops}")


if __name__ == "__main__":
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    main(sys.argv[1], sys.argv[2:])
