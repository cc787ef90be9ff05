#!/usr/bin/env bash
# Throughput and memory of diskferry against curl, in one run, through the same sandbox.
#
# curl moves the image as one PUT of the whole file and one GET (the best a single stream can
# do); diskferry uses its defaults. Prints MiB/s for each, the ratios, diskferry's peak RSS, and
# the time of `diskferry --version`. Usage: bench/transfer-vs-curl.sh [SIZE_MIB] (default 2048).
set -euo pipefail
cd "$(dirname "$0")/.."
size_mib=${1:-2048}
for tool in curl jq /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: needs $tool (apt-get install curl jq time)" >&2; exit 2; }
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
api="$DISKFERRY_ENGINE_URL/ovirt-engine/api"
ca=(--cacert "$DISKFERRY_CAFILE")

echo "bench: making a ${size_mib} MiB random image"
head -c "${size_mib}M" /dev/urandom > "$work/image.raw"
cat "$work/image.raw" > /dev/null   # both runs read it from the page cache
bytes=$(stat -c %s "$work/image.raw")

token=$(printf %s "$DISKFERRY_PASSWORD" | curl -sS "${ca[@]}" -H 'Accept: application/json' \
  --data-urlencode grant_type=password --data-urlencode scope=ovirt-app-api \
  --data-urlencode "username=$DISKFERRY_USERNAME" --data-urlencode "password@-" \
  "$DISKFERRY_ENGINE_URL/ovirt-engine/sso/oauth/token" | jq -r .access_token)
# (curl's password@- reads the value from stdin, so it never appears in argv.)
auth=(-H "Authorization: Bearer $token" -H 'Accept: application/json' -H 'Version: 4')
call() { curl -sS "${ca[@]}" "${auth[@]}" -H 'Content-Type: application/json' "$@"; }
wait_for() { # url jq-filter expected
  for _ in $(seq 1 600); do [ "$(call "$1" | jq -r "$2")" = "$3" ] && return 0; sleep 0.1; done
  echo "bench: timed out waiting for $2 = $3" >&2; return 1
}
curl_transfer() { # direction disk-id -> prints transfer id and url
  local t; t=$(call -X POST "$api/imagetransfers" \
    -d "{\"disk\":{\"id\":\"$2\"},\"direction\":\"$1\",\"format\":\"raw\"}")
  wait_for "$api/imagetransfers/$(jq -r .id <<<"$t")" .phase transferring
  echo "$(jq -r .id <<<"$t") $(jq -r .transfer_url <<<"$t")"
}
finish() { call -X POST "$api/imagetransfers/$1/finalize" -d '{}' >/dev/null
  wait_for "$api/imagetransfers/$1" .phase finished_success; }
now() { date +%s.%N; }
# Every timed command starts with no dirty pages left by the one before (sync, not timed).
start() { sync; now; }
rate() { echo "scale=1; $bytes / 1048576 / ($2 - $1)" | bc; }

# Warm-up, not timed: the first two transfer commands after a build write and publish the
# launcher's class archive (see bin/diskferry), which every later run maps, as an admin's would.
head -c 1M /dev/urandom > "$work/warm.raw"
bin/diskferry -o json upload "$work/warm.raw" --name warm-up 2>/dev/null > "$work/warm.json"
bin/diskferry -q download "$(jq -r .disk_id "$work/warm.json")" "$work/warm.out" >/dev/null
rm -f "$work/warm.raw" "$work/warm.out" "$work/warm.json"

# curl upload: one PUT of the whole file.
disk=$(call -X POST "$api/disks" -d "{\"name\":\"curl\",\"format\":\"raw\",\"provisioned_size\":$bytes,\"storage_domains\":{\"storage_domain\":[{\"name\":\"data\"}]}}" | jq -r .id)
wait_for "$api/disks/$disk" .status ok
read -r tid turl < <(curl_transfer upload "$disk")
t0=$(start); curl -sS "${ca[@]}" -X PUT -T "$work/image.raw" "$turl" >/dev/null; t1=$(now)
finish "$tid"
curl_up=$(rate "$t0" "$t1")

# curl download: one GET.
read -r tid turl < <(curl_transfer download "$disk")
t0=$(start); curl -sS "${ca[@]}" -o "$work/curl-back.raw" "$turl"; t1=$(now)
finish "$tid"
curl_down=$(rate "$t0" "$t1")
cmp "$work/image.raw" "$work/curl-back.raw"
rm -f "$work/curl-back.raw"

# diskferry upload and download with defaults, measuring peak RSS. The JSON Lines on stderr give
# the time of the data phase alone (upload: from the first byte to the finished transfer,
# flush included; download: from the first byte to the fsynced file).
phase_at() { jq -r "select(.event==\"phase\" and .phase==\"$2\") | .elapsed" "$1" | sed -n 1p; }
t0=$(start)
/usr/bin/time -f %M -o "$work/rss-up" bin/diskferry -o json upload "$work/image.raw" --name df > "$work/up.json" 2> "$work/up.events"
t1=$(now)
df_up=$(rate "$t0" "$t1")
df_up_data=$(rate "$(phase_at "$work/up.events" uploading)" "$(phase_at "$work/up.events" "upload completed")")
t0=$(start)
/usr/bin/time -f %M -o "$work/rss-down" bin/diskferry -o json download "$(jq -r .disk_id "$work/up.json")" "$work/df-back.raw" > /dev/null 2> "$work/down.events"
t1=$(now)
df_down=$(rate "$t0" "$t1")
df_down_data=$(rate "$(phase_at "$work/down.events" downloading)" "$(phase_at "$work/down.events" "finalizing transfer")")
cmp "$work/image.raw" "$work/df-back.raw"

v0=$(now); for _ in 1 2 3 4 5; do bin/diskferry --version >/dev/null; done; v1=$(now)

echo
echo "image: ${size_mib} MiB random data, sandbox over TLS on 127.0.0.1, $(nproc) cores"
ratio() { echo "scale=2; $1 / $2" | bc; }
printf "upload    curl %7s MiB/s | diskferry whole command %7s MiB/s (ratio %s), data phase %7s MiB/s (ratio %s)\n" \
  "$curl_up" "$df_up" "$(ratio "$df_up" "$curl_up")" "$df_up_data" "$(ratio "$df_up_data" "$curl_up")"
printf "download  curl %7s MiB/s | diskferry whole command %7s MiB/s (ratio %s), data phase %7s MiB/s (ratio %s)\n" \
  "$curl_down" "$df_down" "$(ratio "$df_down" "$curl_down")" "$df_down_data" "$(ratio "$df_down_data" "$curl_down")"
echo "diskferry peak RSS: upload $(( $(cat "$work/rss-up") / 1024 )) MiB, download $(( $(cat "$work/rss-down") / 1024 )) MiB"
echo "diskferry --version: $(echo "scale=3; ($v1 - $v0) / 5" | bc) s (mean of 5 runs)"
