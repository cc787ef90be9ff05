#!/usr/bin/env bash
# Sparse and qcow2 images through the sandbox, each figure a ratio against a baseline measured in
# the same run (the machine may be busy; rounds are interleaved and medians taken):
#
#  1. upload time of an 8 GiB sparse raw image holding 512 MiB of data / a 512 MiB dense image
#     with the same data (target: <= 1.3);
#  2. allocated size (du) of that sparse disk downloaded as raw, and as qcow2 / its 512 MiB of
#     data (target: within 10%);
#  3. upload throughput of the dense image as qcow2 / as raw (target: >= 0.9);
#  4. --verify: the extra bytes read on each side (diskferry's and the sandbox's read syscalls,
#     rchar in /proc/PID/io) / the data size (target: <= 1 extra read of the data each).
#
# Usage: bench/sparse.sh [ROUNDS] (default 3). JAVA_HOME picks the JDK (on Java 22+ the launcher
# lets diskferry ask the file system for holes; on Java 17 they are read and found to be zeros).
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=${1:-3}
for tool in jq qemu-img bc; do
  command -v "$tool" >/dev/null || { echo "bench: needs $tool (apt-get install jq qemu-utils bc)" >&2; exit 2; }
done
mvn -B -ntp -q -DskipTests package   # always: a stale jar would measure old code

work=$(mktemp -d)
sandbox_pid=
cleanup() {
  [ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null && wait "$sandbox_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

bin/diskferry sandbox --env-file "$work/env" --data-dir "$work/sandbox" --tick 50 >/dev/null &
sandbox_pid=$!
for _ in $(seq 1 200); do [ -s "$work/env" ] && break; sleep 0.1; done
set -a; . "$work/env"; set +a
# the sandbox's java process (the launcher execs java, so it is the same pid)
server_pid=$sandbox_pid

mib=1048576
data=$((512 * mib))
echo "bench: making a 512 MiB dense image, an 8 GiB sparse one with the same data, a qcow2 copy"
head -c $data /dev/urandom > "$work/dense.raw"
truncate -s 8G "$work/sparse.raw"
# 32 chunks of 16 MiB spread over the 8 GiB, at offsets that are not cluster aligned
for i in $(seq 0 31); do
  dd if="$work/dense.raw" of="$work/sparse.raw" bs=1M skip=$((i * 16)) count=16 \
    seek=$((i * 256 * mib + 12345)) oflag=seek_bytes conv=notrunc status=none
done
qemu-img convert -f raw -O qcow2 "$work/dense.raw" "$work/dense.qcow2"
# All three come from the page cache in every round. On Java 17, which cannot ask the file
# system for holes, the sparse upload reads its 7.5 GiB of holes as zeros; read cold, the kernel
# first fills that much page cache with zeros (on a virtual machine whose memory the host backs
# lazily this took 12.7 s instead of 3 s). Java 22 and later skip the holes.
cat "$work/dense.raw" "$work/dense.qcow2" "$work/sparse.raw" > /dev/null

now() { date +%s.%N; }
median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
ratio() { echo "scale=3; $1 / $2" | bc; }
rchar() { awk '/^rchar/ {print $2}' "/proc/$1/io" 2>/dev/null || echo 0; }
upload() { # file name [options] -> seconds of the whole command; the disk id in $work/last
  local f=$1 n=$2; shift 2
  local t0 t1; t0=$(now)
  bin/diskferry -o json upload "$f" --name "$n" "$@" > "$work/last.json" 2> "$work/last.err" || { cat "$work/last.err" >&2; return 1; }
  t1=$(now)
  jq -r .disk_id "$work/last.json" > "$work/last"
  echo "$t1 - $t0" | bc
}

# Warm-up, not timed: the first transfer commands after a build write and publish the launcher's
# class archive (see bin/diskferry), which every later run maps, as an admin's would.
head -c 1M /dev/urandom > "$work/warm.raw"
for w in 1 2 3; do upload "$work/warm.raw" "warm-up-$w" > /dev/null; done
rm -f "$work/warm.raw"

: > "$work/t-dense"; : > "$work/t-sparse"; : > "$work/t-raw"; : > "$work/t-qcow2"
for r in $(seq 1 "$rounds"); do
  upload "$work/dense.raw" "dense-$r" >> "$work/t-dense"
  upload "$work/sparse.raw" "sparse-$r" >> "$work/t-sparse"
  cp "$work/last" "$work/sparse-disk"
  upload "$work/dense.raw" "raw-$r" -f raw >> "$work/t-raw"
  upload "$work/dense.qcow2" "qcow2-$r" -f raw >> "$work/t-qcow2"
  echo "bench: round $r done"
done
t_dense=$(median < "$work/t-dense"); t_sparse=$(median < "$work/t-sparse")
t_raw=$(median < "$work/t-raw"); t_qcow2=$(median < "$work/t-qcow2")

disk=$(cat "$work/sparse-disk")
bin/diskferry download "$disk" "$work/back.raw" >/dev/null
bin/diskferry download "$disk" "$work/back.qcow2" -f qcow2 >/dev/null
cmp "$work/sparse.raw" "$work/back.raw"
qemu-img compare -f raw -F qcow2 "$work/sparse.raw" "$work/back.qcow2"
qemu-img check -q "$work/back.qcow2" || { echo "bench: qemu-img check failed" >&2; exit 1; }
du_raw=$(du -B1 "$work/back.raw" | cut -f1)
du_qcow2=$(du -B1 "$work/back.qcow2" | cut -f1)

# --verify: bytes read by each side during an upload with and without it.
measure_reads() { # options... -> "client_bytes server_bytes"
  local s0 c=0 pid
  s0=$(rchar "$server_pid")
  bin/diskferry -o json upload "$work/dense.raw" --name verify "$@" > /dev/null 2>&1 &
  pid=$!
  # diskferry's own counter, sampled until it exits (the launcher execs java: same pid)
  while kill -0 "$pid" 2>/dev/null; do
    v=$(rchar "$pid"); [ "${v:-0}" -gt "$c" ] && c=$v; sleep 0.05
  done
  wait "$pid"
  echo "$c $(( $(rchar "$server_pid") - s0 ))"
}
read -r c_plain s_plain < <(measure_reads)
read -r c_verify s_verify < <(measure_reads --verify)

echo
echo "sparse/dense upload, $(nproc) cores, $("${JAVA_HOME:+$JAVA_HOME/bin/}java" -version 2>&1 | sed -n 1p), medians of $rounds"
printf "upload  8 GiB sparse (512 MiB data) %6.2f s / 512 MiB dense %6.2f s = %s (target <= 1.3)\n" \
  "$t_sparse" "$t_dense" "$(ratio "$t_sparse" "$t_dense")"
printf "download raw   du %5d MiB / data 512 MiB = %s (target <= 1.10)\n" \
  $((du_raw / mib)) "$(ratio "$du_raw" "$data")"
printf "download qcow2 du %5d MiB / data 512 MiB = %s (target <= 1.10)\n" \
  $((du_qcow2 / mib)) "$(ratio "$du_qcow2" "$data")"
printf "upload  qcow2 %6.2f s vs raw %6.2f s: qcow2 throughput / raw = %s (target >= 0.9)\n" \
  "$t_qcow2" "$t_raw" "$(ratio "$t_raw" "$t_qcow2")"
printf "verify  extra reads / data: diskferry %s, sandbox %s (target <= 1 each)\n" \
  "$(ratio "$((c_verify - c_plain))" "$data")" "$(ratio "$((s_verify - s_plain))" "$data")"
