#!/usr/bin/env bash
# Soak: many uploads and downloads through a sandbox that injects faults, with random kill -9s.
# Every transfer must end with identical bytes after at most one `diskferry resume`; at the end no
# disk may be locked and no journal may be left. Also compares the time per byte with a run of the
# same transfers without faults. Usage: bench/soak.sh [ROUNDS] (default 50) [SEED] (default 1).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-50}
seed=${2:-1}
for tool in jq cmp; do
  command -v "$tool" >/dev/null || { echo "soak: needs $tool" >&2; exit 2; }
done
mvn -B -ntp -q -DskipTests package   # always: a stale jar would measure old code

work=$(mktemp -d)
sandbox_pid=
cleanup() {
  [ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null && wait "$sandbox_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
export HOME="$work/home" XDG_STATE_HOME="$work/state"
mkdir -p "$HOME"
RANDOM=$seed

start_sandbox() { # faults
  rm -f "$work/env"
  bin/diskferry sandbox --env-file "$work/env" --data-dir "$work/sandbox" --tick 50 \
    ${1:+--faults "$1"} >/dev/null 2>"$work/sandbox.err" &
  sandbox_pid=$!
  for _ in $(seq 1 200); do [ -s "$work/env" ] && break; sleep 0.1; done
  set -a; . "$work/env"; set +a
}
stop_sandbox() { kill "$sandbox_pid"; wait "$sandbox_pid" 2>/dev/null || true; sandbox_pid=; }

# Images: random data with a sparse tail, 4 to 36 MiB.
for i in $(seq 1 "$rounds"); do
  f="$work/img-$i.raw"
  head -c $(( (RANDOM % 24 + 4) << 20 )) /dev/urandom > "$f"
  truncate -s +$(( RANDOM % 8 ))M "$f"
done

# Runs diskferry, maybe kills it with -9 after a random moment, and resumes once if needed.
# Prints "ok", "resumed" or "FAILED"; the JSON result goes to $2.
run_once() { # label result-file diskferry-args...
  local label=$1 result=$2; shift 2
  local before; before=$(ls "$XDG_STATE_HOME/diskferry" 2>/dev/null || true)
  bin/diskferry -q -o json "$@" --retry-delay 50 --buffer-size 256K --range-size 4M > "$result" 2> "$work/last.err" &
  local pid=$! killed=
  if [ "$kill_rate" -gt 0 ] && [ $(( RANDOM % 100 )) -lt "$kill_rate" ]; then
    sleep "0.$(( RANDOM % 9 + 1 ))"
    kill -9 "$pid" 2>/dev/null && killed=yes
  fi
  local rc=0; wait "$pid" || rc=$?
  if [ "$rc" = 0 ]; then echo ok; return; fi
  if [ -z "$killed" ] && [ "$rc" != 75 ] && [ "$rc" != 130 ]; then
    echo "FAILED ($label: exit $rc: $(tail -1 "$work/last.err"))"; return
  fi
  # The journal this run left (not one an earlier failure left behind).
  local id; id=$(ls "$XDG_STATE_HOME/diskferry" 2>/dev/null | grep -vxF "$before" | sed -n 's/\.json\(\.tmp\)\{0,1\}$//p' | sed -n 1p || true)
  if [ -z "$id" ]; then
    # Killed before the transfer existed: nothing to resume, so run it again, once.
    [ -n "$killed" ] || { echo "FAILED ($label: exit $rc and no journal)"; return; }
    if bin/diskferry -q -o json "$@" --retry-delay 50 > "$result" 2>> "$work/last.err"; then
      echo resumed
    else
      echo "FAILED ($label: rerun exit $?: $(tail -1 "$work/last.err"))"
    fi
    return
  fi
  if bin/diskferry -q -o json resume "$id" --retry-delay 50 > "$result" 2>> "$work/last.err"; then
    echo resumed
  else
    echo "FAILED ($label: resume exit $?: $(tail -1 "$work/last.err"))"
  fi
}

soak() { # faults kill-rate -> sets ok/resumed/failed/seconds/retries
  kill_rate=$2
  start_sandbox "$1"
  ok=0 resumed=0 failed=0 retries=0
  local t0; t0=$(date +%s.%N)
  for i in $(seq 1 "$rounds"); do
    f="$work/img-$i.raw"
    r=$(run_once "upload $i" "$work/up.json" upload "$f" --name "soak-$i" --workers $(( 1 << (RANDOM % 4) )))
    case "$r" in ok) ok=$((ok+1));; resumed) resumed=$((resumed+1));; *) failed=$((failed+1)); echo "$r"; continue;; esac
    retries=$(( retries + $(jq -r '.retries // 0' "$work/up.json") ))
    disk=$(jq -r .disk_id "$work/up.json")
    rm -f "$work/back.raw"
    r=$(run_once "download $i" "$work/down.json" download "$disk" "$work/back.raw" --force --workers $(( 1 << (RANDOM % 4) )))
    case "$r" in ok) ok=$((ok+1));; resumed) resumed=$((resumed+1));; *) failed=$((failed+1)); echo "$r"; continue;; esac
    retries=$(( retries + $(jq -r '.retries // 0' "$work/down.json") ))
    cmp -s "$f" "$work/back.raw" || { failed=$((failed+1)); echo "FAILED (round $i: bytes differ)"; }
  done
  seconds=$(echo "$(date +%s.%N) - $t0" | bc)
  locked=$(bin/diskferry -o json list | jq '[.[] | select(.status != "ok")] | length')
  journals=$(ls "$XDG_STATE_HOME/diskferry" 2>/dev/null | wc -l)
  stop_sandbox
  injected=$(grep -i "inject" "$work/sandbox.err" | tr '\n' ' ' || true)
  rm -rf "$work/sandbox"
}

faults="reset:after=2M:rate=0.03,status:code=503:rate=0.03:retry-after=0,stall:ms=200:rate=0.01,pause:after=20,expire:after=45,seed=$seed"
soak "" 0
base_seconds=$seconds
echo "baseline: $rounds uploads + $rounds downloads without faults in ${base_seconds}s (failed: $failed)"
# Faults alone, no kill -9: what the retries, pauses and ticket renewals cost by themselves.
soak "$faults" 0
echo "faults only: $((ok + resumed)) of $((2 * rounds)) identical, $failed failed, $retries data-plane retries, time ${seconds}s (ratio $(echo "scale=2; $seconds / $base_seconds" | bc))"
faults_failed=$failed
soak "$faults" 25
echo "soak: faults '$faults', kill -9 in about 25% of the runs"
echo "soak: $((ok + resumed)) of $((2 * rounds)) transfers identical ($resumed after one resume), $failed failed"
echo "soak: data-plane retries $retries; disks not ok at the end: $locked; journals left: $journals"
echo "soak: sandbox: $injected"
echo "soak: time ${seconds}s against ${base_seconds}s without faults (ratio $(echo "scale=2; $seconds / $base_seconds" | bc))"
[ "$failed" = 0 ] && [ "$faults_failed" = 0 ] && [ "$locked" = 0 ] && [ "$journals" = 0 ]
