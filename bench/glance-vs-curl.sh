#!/usr/bin/env bash
# Throughput and memory of diskferry's Glance backend against curl and openstacksdk, in one run,
# against the same real Glance on 127.0.0.1 (scripts/glance-test-server.sh: Debian's glance-api,
# file store; `sudo scripts/glance-test-server.sh install` installs it).
#
# Each round: curl PUT of the whole file (exact Content-Length) to a new image, diskferry upload,
# curl GET, diskferry download, openstacksdk's streamed download (1 MiB chunks, md5 checked by the
# SDK). Prints the median MiB/s of each (whole commands, so diskferry's JVM start, checksum
# comparison and fsync are included), the ratios, and peak RSS from /usr/bin/time -v.
# Usage: bench/glance-vs-curl.sh [SIZE_MIB] [ROUNDS]   (default 1024 MiB, 5 rounds)
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-1024}
rounds=${2:-5}
for tool in curl jq bc /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: needs $tool (apt-get install curl jq bc time)" >&2; exit 2; }
done
if ! /usr/bin/python3 -c 'import openstack' 2>/dev/null; then
  echo "bench: installing python3-openstacksdk" >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends python3-openstacksdk >&2
fi
mvn -B -ntp -q -DskipTests package   # always: a stale jar would measure old code

work=$(mktemp -d)
cleanup() {
  bash scripts/glance-test-server.sh stop --dir "$work/glance" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
eval "$(bash scripts/glance-test-server.sh start --dir "$work/glance")"
E=$GLANCE_ENDPOINT
export OS_CLIENT_CONFIG_FILE="$work/glance/clouds.yaml"

echo "bench: making a ${size_mib} MiB random image" >&2
head -c "${size_mib}M" /dev/urandom > "$work/image.raw"
bytes=$(stat -c %s "$work/image.raw")

now() { date +%s.%N; }
# Every timed command starts with no dirty pages left by the one before (sync, not timed), so
# none of them pays for another's writeback.
start() { sync; now; }
rate() { echo "scale=1; $bytes / 1048576 / ($2 - $1)" | bc; }
rss() { awk -F': ' '/Maximum resident/ {printf "%d", $2/1024}' "$1"; }
median() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
create() { curl -fsS -X POST -H 'Content-Type: application/json' \
  -d "{\"name\":\"$1\",\"disk_format\":\"raw\",\"container_format\":\"bare\"}" "$E/v2/images" | jq -r .id; }
delete() { curl -fsS -X DELETE "$E/v2/images/$1" >/dev/null; }

cat > "$work/sdk.py" <<'PY'
import sys, openstack
conn = openstack.connect(cloud="glance-test")
image = conn.image.get_image(sys.argv[1])
with open(sys.argv[2], "wb") as f:
    conn.image.download_image(image, output=f, chunk_size=1024 * 1024)
PY

# Warm-up, not timed: the first two transfer commands after a build write and publish the
# launcher's class archive (see bin/diskferry), which every later run maps, as an admin's would.
head -c 1M /dev/urandom > "$work/warm.raw"
bin/diskferry --cloud glance-test -o json upload "$work/warm.raw" --name warm-up 2>/dev/null > "$work/warm.json"
warm=$(jq -r .image_id "$work/warm.json")
bin/diskferry --cloud glance-test -q download "$warm" "$work/warm.out" >/dev/null
delete "$warm"; rm -f "$work/warm.raw" "$work/warm.out" "$work/warm.json"

cu=(); du=(); cd_=(); dd=(); sd=(); cs=(); rss_up=(); rss_down=(); rss_sdk=(); rss_curl=()
for r in $(seq 1 "$rounds"); do
  echo "bench: round $r of $rounds" >&2
  id=$(create "curl-$r")
  t0=$(start)
  /usr/bin/time -v -o "$work/t" curl -fsS -X PUT -H 'Content-Type: application/octet-stream' \
    -T "$work/image.raw" "$E/v2/images/$id/file"
  t1=$(now); cu+=("$(rate "$t0" "$t1")")

  t0=$(start)
  /usr/bin/time -v -o "$work/t" bin/diskferry --cloud glance-test -o json upload \
    "$work/image.raw" --name "df-$r" > "$work/up.json" 2>/dev/null
  t1=$(now); du+=("$(rate "$t0" "$t1")"); rss_up+=("$(rss "$work/t")")
  dfid=$(jq -r .image_id "$work/up.json")

  t0=$(start)
  /usr/bin/time -v -o "$work/t" curl -fsS -o "$work/curl.out" "$E/v2/images/$id/file"
  t1=$(now); cd_+=("$(rate "$t0" "$t1")"); rss_curl+=("$(rss "$work/t")")
  cmp "$work/image.raw" "$work/curl.out"; rm -f "$work/curl.out"

  # The same download made as durable as diskferry's: curl, then fsync of the file (coreutils
  # sync FILE). diskferry fsyncs before it reports success (SPEC), so on a disk slower than the
  # page cache this is the like-for-like baseline.
  t0=$(start)
  curl -fsS -o "$work/curl.out" "$E/v2/images/$id/file" && sync "$work/curl.out"
  t1=$(now); cs+=("$(rate "$t0" "$t1")")
  rm -f "$work/curl.out"

  t0=$(start)
  /usr/bin/time -v -o "$work/t" bin/diskferry --cloud glance-test -q download "$dfid" "$work/df.out" >/dev/null
  t1=$(now); dd+=("$(rate "$t0" "$t1")"); rss_down+=("$(rss "$work/t")")
  cmp "$work/image.raw" "$work/df.out"; rm -f "$work/df.out"

  t0=$(start)
  /usr/bin/time -v -o "$work/t" /usr/bin/python3 "$work/sdk.py" "$dfid" "$work/sdk.out"
  t1=$(now); sd+=("$(rate "$t0" "$t1")"); rss_sdk+=("$(rss "$work/t")")
  cmp "$work/image.raw" "$work/sdk.out"; rm -f "$work/sdk.out"

  delete "$id"; delete "$dfid"
done

ratio() { echo "scale=2; $1 / $2" | bc; }
CU=$(median "${cu[@]}"); DU=$(median "${du[@]}"); CD=$(median "${cd_[@]}"); DD=$(median "${dd[@]}"); SD=$(median "${sd[@]}")
CS=$(median "${cs[@]}")
echo
echo "image: ${size_mib} MiB random data, real Glance (1 worker, file store) on 127.0.0.1, $(nproc) cores; medians of $rounds rounds"
echo "upload    curl ${CU} MiB/s | diskferry ${DU} MiB/s (ratio $(ratio "$DU" "$CU"))   [rounds: curl ${cu[*]}; diskferry ${du[*]}]"
echo "download  curl ${CD} MiB/s | diskferry ${DD} MiB/s (ratio $(ratio "$DD" "$CD")) | openstacksdk ${SD} MiB/s (diskferry/sdk $(ratio "$DD" "$SD"))"
echo "          [rounds: curl ${cd_[*]}; diskferry ${dd[*]}; sdk ${sd[*]}]"
echo "download  curl + fsync ${CS} MiB/s | diskferry (fsyncs) ${DD} MiB/s (ratio $(ratio "$DD" "$CS"))   [rounds: ${cs[*]}]"
echo "peak RSS MiB: diskferry upload ${rss_up[*]}, download ${rss_down[*]}; curl download ${rss_curl[*]}; openstacksdk ${rss_sdk[*]}"
