#!/usr/bin/env bash
# Read throughput of compressed qcow2 images through diskferry's reader: deflate (compression
# type 0, java.util.zip) vs zstd (type 1, the pure-Java decoder), from the same mixed data, with
# 64 KiB and 2 MiB clusters; the raw source is read too as a reference. An upload of a compressed
# qcow2 is bounded by this decode rate on top of the transfer.
#
# Usage: bench/zstd.sh [MIB] [ROUNDS] (defaults 256 and 5). JAVA_HOME picks the JDK.
set -euo pipefail
cd "$(dirname "$0")/.."
mib=${1:-256}
rounds=${2:-5}
command -v qemu-img >/dev/null || { echo "bench: needs qemu-img (apt-get install qemu-utils)" >&2; exit 2; }
mvn -B -ntp -q -DskipTests compile   # always: stale classes would measure old code
java=${JAVA_HOME:+$JAVA_HOME/bin/}java

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$java" -cp target/classes bench/Qcow2ReadBench.java gen "$work/mixed.raw" "$mib"
images=("$work/mixed.raw")
for cs in 65536 2097152; do
  for ct in zlib zstd; do
    img="$work/mixed-$ct-$cs.qcow2"
    qemu-img convert -c -f raw -O qcow2 -o "cluster_size=$cs,compression_type=$ct" \
      "$work/mixed.raw" "$img"
    echo "$(basename "$img"): $(( $(stat -c %s "$img") >> 20 )) MiB for $mib MiB"
    images+=("$img")
  done
done
"$java" -cp target/classes bench/Qcow2ReadBench.java read "$rounds" "${images[@]}"
