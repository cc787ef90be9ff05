#!/usr/bin/env bash
# VM backups against the sandbox, in one run: a full backup of a disk against `diskferry
# download -f qcow2` of a disk with the same content, an incremental backup with about 5% of the
# disk's 64 KiB blocks changed against the full one, and peak RSS of each.
#
# The sandbox serves a running VM (guest writes, backups) and a stopped one (whose disk can be
# downloaded); both disks get the same data. Usage: bench/backup.sh [SIZE_MIB] [ROUNDS]
# (default 1024 MiB, 3 rounds; medians are printed).
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
rounds=${2:-3}
for tool in curl jq /usr/bin/time python3; do
  command -v "$tool" >/dev/null || { echo "bench: needs $tool" >&2; exit 2; }
done
mvn -B -ntp -q -DskipTests package   # always: a stale jar would measure old code

work=$(mktemp -d)
sandbox_pid=
cleanup() {
  [ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null && wait "$sandbox_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

bin/diskferry sandbox --env-file "$work/env" --data-dir "$work/sandbox" \
  --vm "live:${size_mib}M" --vm "cold:down:${size_mib}M" >/dev/null 2>"$work/sandbox.err" &
sandbox_pid=$!
for _ in $(seq 1 300); do [ -s "$work/env" ] && break; sleep 0.1; done
set -a; . "$work/env"; set +a
ids() { sed -n "s/^diskferry: sandbox VM $1 ([a-z]*) \([0-9a-f-]*\): $1-disk1=\([0-9a-f-]*\).*/\1 \2/p" "$work/sandbox.err"; }
read -r live_vm live_disk < <(ids live)
read -r cold_vm cold_disk < <(ids cold)
ca=(--cacert "$DISKFERRY_CAFILE")
guest() { # offset file: writes the file into the live VM's disk as its guest would
  local n; n=$(stat -c %s "$2")
  printf 'user = "%s:%s"\n' "$DISKFERRY_USERNAME" "$DISKFERRY_PASSWORD" |
    curl -sS -K - "${ca[@]}" -X PUT -H "Content-Range: bytes $1-$(($1 + n - 1))/*" \
      --data-binary @"$2" -o /dev/null -w '%{http_code}' \
      "$DISKFERRY_ENGINE_URL/sandbox/vms/$live_vm/disks/$live_disk/guest" | grep -q 200
}
now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
timed() { # label cmd... -> appends "seconds rss_kib" to $work/label
  local label=$1; shift
  sync
  local t0 t1; t0=$(now)
  /usr/bin/time -f %M -o "$work/rss" "$@" >/dev/null 2>"$work/last.err" ||
    { cat "$work/last.err" >&2; exit 1; }
  t1=$(now)
  echo "$(echo "$t1 - $t0" | bc) $(cat "$work/rss")" >> "$work/$label"
}

echo "bench: filling both disks with ${size_mib} MiB (half data, half zeros)"
python3 - "$work/image.raw" "$size_mib" <<'PY'
import os, sys
path, mib = sys.argv[1], int(sys.argv[2])
with open(path, "wb") as f:
    for i in range(mib):
        f.write(os.urandom(1 << 20) if i % 2 == 0 else bytes(1 << 20))
PY
for ((off = 0; off < size_mib; off += 64)); do
  dd if="$work/image.raw" of="$work/chunk" bs=1M skip=$off count=64 status=none
  guest $((off << 20)) "$work/chunk"
done
bin/diskferry -q upload "$work/image.raw" --disk-id "$cold_disk" >/dev/null

# Warm-up, not timed: the launcher's class archive for transfers.
bin/diskferry -q download "$cold_disk" "$work/warm.qcow2" -f qcow2 >/dev/null
rm -f "$work/warm.qcow2"

for ((r = 1; r <= rounds; r++)); do
  echo "bench: round $r of $rounds"
  timed download bin/diskferry -q download "$cold_disk" "$work/down.qcow2" -f qcow2 --force
  timed full bin/diskferry -q backup live --repo "$work/repo" --mode full
  # About 5% of the 64 KiB blocks, in runs of 4 blocks at random places.
  blocks=$((size_mib * 16))
  python3 - "$work/dirty" $((blocks / 20 / 4)) "$blocks" "$r" <<'PY'
import os, random, sys
path, runs, blocks, seed = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
rnd = random.Random(seed)
with open(path, "w") as f:
    for b in sorted(rnd.sample(range(0, blocks - 4, 4), runs)):
        f.write(f"{b * 65536}\n")
PY
  head -c 256K /dev/urandom > "$work/run"
  while read -r off; do guest "$off" "$work/run"; done < "$work/dirty"
  timed incremental bin/diskferry -q backup live --repo "$work/repo" --mode incremental
  rm -rf "$work/repo" "$work/down.qcow2"
done

col() { cut -d' ' -f"$2" "$work/$1" | median; }
mib=$size_mib
d=$(col download 1); f=$(col full 1); i=$(col incremental 1)
printf '%-34s %10s %12s %12s\n' "" seconds "MiB/s" "peak RSS MiB"
for k in download full incremental; do
  s=$(col $k 1); m=$(col $k 2)
  printf '%-34s %10.2f %12.1f %12.0f\n' "$k" "$s" "$(echo "$mib / $s" | bc -l)" "$(echo "$m / 1024" | bc -l)"
done
echo
printf 'full backup vs download, throughput: %.2f  (target >= 1.0)\n' "$(echo "$d / $f" | bc -l)"
printf 'incremental (5%% dirty) / full time:  %.2f  (target <= 0.15)\n' "$(echo "$i / $f" | bc -l)"
