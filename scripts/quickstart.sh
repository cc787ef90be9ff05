#!/usr/bin/env bash
# Builds diskferry, starts the built-in sandbox, uploads a random 256 MiB image, downloads it
# again and checks that the bytes are identical. Everything stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
sandbox_pid=
cleanup() {
  [ -n "$sandbox_pid" ] && kill "$sandbox_pid" 2>/dev/null && wait "$sandbox_pid" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT

mvn -B -ntp -q -DskipTests package
ls target/diskferry-*-all.jar >/dev/null

bin/diskferry sandbox --env-file "$work/env" --data-dir "$work/sandbox" >/dev/null &
sandbox_pid=$!
for _ in $(seq 1 100); do [ -s "$work/env" ] && break; sleep 0.1; done
[ -s "$work/env" ] || { echo "quickstart: the sandbox did not start" >&2; exit 1; }
set -a; . "$work/env"; set +a

head -c 256M /dev/urandom > "$work/disk.img"
bin/diskferry upload "$work/disk.img" --name quickstart
bin/diskferry download quickstart "$work/back.img"
cmp "$work/disk.img" "$work/back.img"
echo "quickstart: upload and download through the sandbox gave identical bytes"
