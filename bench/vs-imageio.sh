#!/usr/bin/env bash
# diskferry against ovirt-imageio's own client on the real server, in one run.
#
# One ovirt-local (../shared/tools/ovirt-local, or $DISKFERRY_OVIRT_LOCAL): the ovirt-imageio
# daemon writing through qemu-nbd, as on an oVirt host, behind an engine emulation. The reference
# client is imageio-client-flow.py (the ovirt-img flow with imageio's Python client library,
# 4 workers, 4 MiB buffers: its defaults); diskferry runs with its defaults. Scenarios, with
# U = UNIT_MIB (default 1024):
#
#   upload U random | upload 4U random | upload 4U sparse holding U/4 of data |
#   download U | download 4U       (the downloads read disks uploaded before, not timed)
#
# PAIRS interleaved pairs per scenario (default 3; the first of a pair alternates). Each command
# is measured whole (its start-up and the engine's phases included) with /usr/bin/time: wall
# time, CPU time (user + system) of the whole process tree, peak RSS (of its largest process).
# Every result is checked byte for byte: an upload's volume file (the engine's `path`) against
# the source (cmp for raw volumes, qemu-img compare otherwise), a download against the source.
# Prints the medians and the ratios client / diskferry (> 1: diskferry is faster or leaner).
# The daemon's log is kept in target/vs-imageio-daemon.log; bench/imageio-requests.py prints
# from it the requests of each connection of each transfer.
#
# Usage: bench/vs-imageio.sh [UNIT_MIB] [PAIRS]
# Space: about 19 x U in target/ at once (sources, the two disks downloads read, one result).
set -euo pipefail
cd "$(dirname "$0")/.."
unit=${1:-1024}
pairs=${2:-3}
[[ $unit =~ ^[0-9]+$ && $unit -ge 16 && $((unit % 16)) -eq 0 ]] ||
  { echo "bench: UNIT_MIB must be a multiple of 16, at least 16" >&2; exit 2; }
[[ $pairs =~ ^[1-9][0-9]*$ ]] || { echo "bench: PAIRS must be a positive number" >&2; exit 2; }
tools=${DISKFERRY_OVIRT_LOCAL:-../shared/tools/ovirt-local}
[ -x "$tools/ovirt-local.sh" ] || { echo "bench: $tools/ovirt-local.sh not found (set DISKFERRY_OVIRT_LOCAL)" >&2; exit 2; }
tools=$(cd "$tools" && pwd)
for tool in jq bc cmp qemu-img qemu-nbd openssl curl python3 /usr/bin/time; do
  command -v "$tool" >/dev/null || { echo "bench: needs $tool (apt-get install jq bc diffutils qemu-utils openssl curl python3 time)" >&2; exit 2; }
done
mvn -B -ntp -q -DskipTests package >&2   # always: a stale jar would measure old code

# On the project's disk, not in /tmp: the daemon writes with O_DIRECT, which tmpfs refuses.
mkdir -p target
work=$(mktemp -d -p "$PWD/target" vs-imageio.XXXXXX)
export MINI_OVIRT_DIR=$work/ovirt
cleanup() {
  [ -f "$MINI_OVIRT_DIR/imageio/daemon.log" ] && cp "$MINI_OVIRT_DIR/imageio/daemon.log" target/vs-imageio-daemon.log
  "$tools/ovirt-local.sh" stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
"$tools/ovirt-local.sh" start --data-dir "$work/data" --env-file "$work/env" -- --step-delay 0.2 >/dev/null
set -a; . "$work/env"; set +a
flow() { python3 "$tools/imageio-client-flow.py" --env "$work/env" "$@"; }

mib=1048576
big=$((4 * unit))
echo "bench: making a ${unit} MiB and a ${big} MiB random image, and a ${big} MiB sparse one with $((unit / 4)) MiB of data" >&2
head -c "${unit}M" /dev/urandom > "$work/u.raw"
head -c "${big}M" /dev/urandom > "$work/4u.raw"
truncate -s "${big}M" "$work/sparse.raw"
# 16 runs of U/64 MiB of data, spread evenly, at offsets that are not cluster aligned
for i in $(seq 0 15); do
  dd if="$work/u.raw" of="$work/sparse.raw" bs=1M skip=$((i * unit / 64)) count=$((unit / 64)) \
    seek=$((i * big / 16 * mib + 12345)) oflag=seek_bytes conv=notrunc status=none
done
# Every timed command reads its source from the page cache.
cat "$work/u.raw" "$work/4u.raw" "$work/sparse.raw" > /dev/null

median() { sort -g | awk '{a[NR]=$1} END {print (NR % 2) ? a[(NR+1)/2] : (a[NR/2] + a[NR/2+1]) / 2}'; }
ratio() { printf %.2f "$(echo "scale=3; $1 / $2" | bc)"; }

# timed TAG COMMAND...: runs the command after a sync (not timed: no command pays for the
# writeback of the one before), appends "wall cpu rss_mib" to $work/TAG, keeps stdout in
# $work/out and stderr in $work/err.
timed() {
  local tag=$1; shift
  sync
  if ! /usr/bin/time -f '%e %U %S %M' -o "$work/time" "$@" > "$work/out" 2> "$work/err"; then
    echo "bench: failed: $*" >&2; cat "$work/err" >&2; exit 1
  fi
  awk '{printf "%s %.2f %d\n", $1, $2 + $3, $4 / 1024}' "$work/time" >> "$work/$tag"
}

# The volume file of a disk holds exactly the bytes of a source, or the bench stops.
check_volume() { # disk source
  local vol fmt
  vol=$(flow path "$1")
  fmt=$(qemu-img info --output json "$vol" | jq -r .format)
  if [ "$fmt" = raw ]; then
    cmp "$2" "$vol" || { echo "bench: disk $1 differs from $2" >&2; exit 1; }
  else
    qemu-img compare -q -f raw -F "$fmt" "$2" "$vol" || { echo "bench: disk $1 ($fmt) differs from $2" >&2; exit 1; }
  fi
}
check_file() { # file source
  cmp "$2" "$1" || { echo "bench: $1 differs from $2" >&2; exit 1; }
  rm -f "$1"
}

upload_client() { # tag source
  timed "$1-client" python3 "$tools/imageio-client-flow.py" --env "$work/env" upload "$2" --name "client-$1"
  local disk; disk=$(jq -r .disk_id "$work/out")
  check_volume "$disk" "$2"
  flow delete "$disk" >/dev/null
}
upload_diskferry() { # tag source
  timed "$1-diskferry" bin/diskferry -q -o json upload "$2" --name "diskferry-$1"
  local disk; disk=$(jq -r .disk_id "$work/out")
  check_volume "$disk" "$2"
  flow delete "$disk" >/dev/null
}
download_client() { # tag disk source
  timed "$1-client" python3 "$tools/imageio-client-flow.py" --env "$work/env" download "$2" "$work/back.raw"
  check_file "$work/back.raw" "$3"
}
download_diskferry() { # tag disk source
  timed "$1-diskferry" bin/diskferry -q download "$2" "$work/back.raw"
  check_file "$work/back.raw" "$3"
}

# Warm-up, not timed: the first two transfer commands after a build write and publish the
# launcher's class archive (see bin/diskferry), which every later run maps, as an admin's
# would; the client's first run compiles the library's bytecode.
head -c 1M /dev/urandom > "$work/warm.raw"
bin/diskferry -q -o json upload "$work/warm.raw" --name warm-up > "$work/warm.json" 2> "$work/err" || { cat "$work/err" >&2; exit 1; }
warm=$(jq -r .disk_id "$work/warm.json")
bin/diskferry -q download "$warm" "$work/warm.out" > /dev/null
flow download "$warm" "$work/warm.out" > /dev/null
flow delete "$warm" > /dev/null
rm -f "$work/warm.raw" "$work/warm.out"

# The disks the downloads read, uploaded once (not timed) and checked.
echo "bench: uploading the disks the downloads read" >&2
bin/diskferry -q -o json upload "$work/u.raw" --name down-u > "$work/d1.json" 2> "$work/err" || { cat "$work/err" >&2; exit 1; }
down_u=$(jq -r .disk_id "$work/d1.json")
bin/diskferry -q -o json upload "$work/4u.raw" --name down-4u > "$work/d2.json" 2> "$work/err" || { cat "$work/err" >&2; exit 1; }
down_4u=$(jq -r .disk_id "$work/d2.json")
check_volume "$down_u" "$work/u.raw"
check_volume "$down_4u" "$work/4u.raw"

scenarios=(up-u up-4u up-sparse down-u down-4u)
for pair in $(seq 1 "$pairs"); do
  for s in "${scenarios[@]}"; do
    echo "bench: pair $pair/$pairs, $s" >&2
    case $s in
      up-u) args=(upload "$s" "$work/u.raw") ;;
      up-4u) args=(upload "$s" "$work/4u.raw") ;;
      up-sparse) args=(upload "$s" "$work/sparse.raw") ;;
      down-u) args=(download "$s" "$down_u" "$work/u.raw") ;;
      down-4u) args=(download "$s" "$down_4u" "$work/4u.raw") ;;
    esac
    kind=${args[0]}
    if [ $((pair % 2)) = 1 ]; then
      "${kind}_client" "${args[@]:1}"; "${kind}_diskferry" "${args[@]:1}"
    else
      "${kind}_diskferry" "${args[@]:1}"; "${kind}_client" "${args[@]:1}"
    fi
  done
done

col() { awk -v c="$2" '{print $c}' "$work/$1" | median; }
echo
echo "ovirt-imageio daemon $(python3 -c 'import sys; sys.path.insert(0, sys.argv[1]); from ovirt_imageio._internal import version; print(version.string)' "$tools/imageio" 2>/dev/null || echo '2.5.3') through qemu-nbd, TLS on 127.0.0.1; $(nproc) cores; U = $unit MiB; medians of $pairs interleaved pairs; whole commands"
echo "every result compared byte for byte with its source"
printf '%-36s | %-27s | %-27s | %s\n' scenario "imageio client" diskferry "ratio client/diskferry: wall, CPU, RSS"
for s in "${scenarios[@]}"; do
  case $s in
    up-u) label="upload $unit MiB random" ;;
    up-4u) label="upload $big MiB random" ;;
    up-sparse) label="upload $big MiB sparse, $((unit / 4)) MiB data" ;;
    down-u) label="download $unit MiB" ;;
    down-4u) label="download $big MiB" ;;
  esac
  cw=$(col "$s-client" 1) cc=$(col "$s-client" 2) cr=$(col "$s-client" 3)
  dw=$(col "$s-diskferry" 1) dc=$(col "$s-diskferry" 2) dr=$(col "$s-diskferry" 3)
  printf '%-36s | %6.2f s %6.2f CPU-s %4d MiB | %6.2f s %6.2f CPU-s %4d MiB | %s %s %s\n' \
    "$label" "$cw" "$cc" "$cr" "$dw" "$dc" "$dr" "$(ratio "$cw" "$dw")" "$(ratio "$cc" "$dc")" "$(ratio "$cr" "$dr")"
done
# The issue's CPU target: diskferry's CPU over the 4U upload and download / the client's.
c4=$(echo "$(col up-4u-client 2) + $(col down-4u-client 2)" | bc)
d4=$(echo "$(col up-4u-diskferry 2) + $(col down-4u-diskferry 2)" | bc)
echo "CPU-seconds over the $big MiB upload and download: client $c4, diskferry $d4 (diskferry/client $(ratio "$d4" "$c4"))"
