#!/usr/bin/env bash
# Start-up time of the launcher (bin/diskferry) with and without its class-data sharing archive,
# in one run: `diskferry --version`, and `diskferry status` against a sandbox (login over TLS,
# one API call). The variants run interleaved, in a random order within each round, so that load
# from other processes spreads evenly over them; prints medians, minimums and the ratios.
#
#   cds      the launcher as installed: its AppCDS archive in $XDG_CACHE_HOME/diskferry
#   no-cds   DISKFERRY_CDS=0: no archive of diskferry's classes (the JDK's own CDS still on)
#   no-share DISKFERRY_CDS=0 and -Xshare:off: no class-data sharing at all (for reference)
#
# Usage: bench/startup.sh [ROUNDS] (default 21). JAVA_HOME selects the runtime, as for the
# launcher. Targets: --version median <= 0.25 s and <= 0.6 x no-cds.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-21}
mvn -B -ntp -q -DskipTests package   # always: a stale jar would measure old code

work=$(mktemp -d)
sandbox_pid=
cleanup() {
  [ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null && wait "$sandbox_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

jar=$(ls target/diskferry-*-all.jar)
export DISKFERRY_JAR=$PWD/$jar XDG_CACHE_HOME=$work/cache XDG_STATE_HOME=$work/state
unset DISKFERRY_JAVA_OPTS DISKFERRY_CDS

# The sandbox runs without an archive of its own, so the cache holds only what the measured
# commands write.
DISKFERRY_CDS=0 bin/diskferry sandbox --env-file "$work/env" --data-dir "$work/disks" >/dev/null &
sandbox_pid=$!
for _ in $(seq 1 200); do [ -s "$work/env" ] && break; sleep 0.1; done
[ -s "$work/env" ] || { echo "bench: the sandbox did not start" >&2; exit 1; }
set -a; . "$work/env"; set +a

java_bin="${JAVA_HOME:+$JAVA_HOME/bin/}java"
echo "bench: $("$java_bin" -version 2>&1 | sed -n 1p), $(nproc) CPUs, load $(cut -d' ' -f1-3 /proc/loadavg)"

variants=(version:cds version:no-cds version:no-share status:cds status:no-cds status:no-share)

# Runs one variant once and prints its wall time in milliseconds.
run() {
  local cmd=${1%%:*} mode=${1#*:} start end
  local -a env=()
  case $mode in
    no-cds) env=(DISKFERRY_CDS=0) ;;
    no-share) env=(DISKFERRY_CDS=0 DISKFERRY_JAVA_OPTS=-Xshare:off) ;;
  esac
  local -a args=(--version)
  [ "$cmd" = status ] && args=(status)
  start=$EPOCHREALTIME
  env "${env[@]}" bin/diskferry "${args[@]}" >"$work/out" 2>"$work/err" ||
    { echo "bench: diskferry ${args[*]} ($mode) failed:" >&2; cat "$work/err" >&2; exit 1; }
  end=$EPOCHREALTIME
  echo $(( (${end/./} - ${start/./}) / 1000 ))
}

# Warm-up: the first cds runs write and publish the archives; every variant runs twice.
for v in "${variants[@]}"; do run "$v" >/dev/null; run "$v" >/dev/null; done
ls "$XDG_CACHE_HOME/diskferry" | sed 's/^/bench: archive /'

declare -A times
for ((r = 0; r < rounds; r++)); do
  for v in $(printf '%s\n' "${variants[@]}" | shuf); do
    times[$v]+="$(run "$v") "
  done
done

median() { tr ' ' '\n' | sed '/^$/d' | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : int((a[NR/2]+a[NR/2+1])/2))}'; }
minimum() { tr ' ' '\n' | sed '/^$/d' | sort -n | sed -n 1p; }

printf '\n%-22s %10s %10s\n' variant "median ms" "min ms"
declare -A med
for v in "${variants[@]}"; do
  med[$v]=$(median <<<"${times[$v]}")
  printf '%-22s %10s %10s\n' "$v" "${med[$v]}" "$(minimum <<<"${times[$v]}")"
done
echo
for cmd in version status; do
  for base in no-cds no-share; do
    awk -v a="${med[$cmd:cds]}" -v b="${med[$cmd:$base]}" -v c="$cmd" -v n="$base" \
      'BEGIN {printf "%-8s cds / %-9s = %.2f\n", c, n, a / b}'
  done
done
echo
v=${med[version:cds]} n=${med[version:no-cds]}
awk -v v="$v" -v n="$n" 'BEGIN {
  printf "target --version median <= 250 ms: %s (%d ms)\n", (v <= 250 ? "met" : "MISSED"), v
  printf "target --version <= 0.6 x no-cds:  %s (%.2f)\n", (v <= 0.6 * n ? "met" : "MISSED"), v / n
}'
