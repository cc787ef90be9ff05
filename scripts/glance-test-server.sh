#!/usr/bin/env bash
# A real OpenStack Glance (Debian's glance-api) on 127.0.0.1 for diskferry's tests and benchmarks.
#
#   scripts/glance-test-server.sh install
#       installs Debian's glance-api with apt-get (root; 1-2 minutes); starts no service
#   scripts/glance-test-server.sh start --dir DIR [--port PORT] [--size-cap BYTES]
#       a fresh Glance with all its state under DIR (config, sqlite database, file store, log);
#       waits until it answers, then prints GLANCE_ENDPOINT=http://127.0.0.1:PORT (also in DIR/env)
#       and writes DIR/clouds.yaml with the cloud "glance-test" (auth_type none)
#   scripts/glance-test-server.sh stop --dir DIR
#       stops the Glance started with that DIR (its process group); --purge also deletes DIR
#
# There is no Keystone: a small paste filter (DIR/diskferry_test_auth.py) gives every request
# the same identity, project "diskferry-tests" with the admin, member and reader roles, so that
# images have an owner and interoperable import (glance-direct) works. --port 0 or no --port
# picks a free port. Exit status: 0 done, 1 failed, 2 usage, 3 glance-api is not installed.
set -euo pipefail

say() { echo "glance-test-server: $*" >&2; }
fail() { say "$*"; exit 1; }
usage() { say "$*"; say "usage: $0 install | start --dir DIR [--port PORT] [--size-cap BYTES] | stop --dir DIR [--purge]"; exit 2; }

installed() { [ -x /usr/bin/glance-api ] && [ -x /usr/bin/glance-manage ] &&
  [ -f /usr/share/glance-common/glance-api-paste.ini ]; }

do_install() {
  [ "$(id -u)" = 0 ] || fail "install needs root (apt-get)"
  if installed; then
    say "glance-api is already installed"
    return 0
  fi
  export DEBIAN_FRONTEND=noninteractive
  # The packages' maintainer scripts must not start services (a CI container has no init):
  # invoke-rc.d asks policy-rc.d, and 101 means "not allowed". Only ours is removed afterwards.
  local policy=/usr/sbin/policy-rc.d ours=0
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    ours=1
  fi
  # No database, message queue, Keystone or endpoint registration: answer debconf up front.
  debconf-set-selections <<'EOF'
glance-common glance/configure_db boolean false
glance-common glance/configure_rabbit boolean false
glance-common glance/configure_ksat boolean false
glance-api glance/configure_api-endpoint boolean false
EOF
  say "installing glance-api with apt-get (1-2 minutes)"
  local rc=0
  { apt-get update -q && apt-get install -y -q --no-install-recommends \
      -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold glance-api; } >&2 || rc=$?
  [ "$ours" = 1 ] && rm -f "$policy"
  [ "$rc" = 0 ] || fail "apt-get install glance-api failed (exit $rc)"
  installed || fail "glance-api was installed but /usr/bin/glance-api or its paste config is missing"
}

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# The paste pipeline: Debian's file, with our identity filter where keystonemiddleware would be.
write_paste() {
  local stock=/usr/share/glance-common/glance-api-paste.ini
  # The healthcheck middleware answers 503 while its "disable" file exists: keep it inside DIR.
  sed "s#^disable_by_file_path *=.*#disable_by_file_path = $dir/healthcheck-off#" "$stock" >"$dir/paste.ini"
  cat >>"$dir/paste.ini" <<'EOF'

[pipeline:glance-api-diskferry-tests]
pipeline = cors healthcheck http_proxy_to_wsgi versionnegotiation osprofiler testidentity rootapp

[filter:testidentity]
paste.filter_factory = diskferry_test_auth:factory
EOF
  cat >"$dir/diskferry_test_auth.py" <<'EOF'
"""One fixed identity for every request: a test Glance without Keystone. Loopback only."""
import glance.context
from glance.api import policy
from glance.api.middleware.context import BaseContextMiddleware

ROLES = ["admin", "member", "reader"]


class TestIdentity(BaseContextMiddleware):
    def __init__(self, app):
        self.enforcer = policy.Enforcer()
        super().__init__(app)

    def process_request(self, req):
        req.context = glance.context.RequestContext(
            user_id="diskferry-test", project_id="diskferry-tests", roles=list(ROLES),
            is_admin=True, auth_token=req.headers.get("X-Auth-Token"),
            policy_enforcer=self.enforcer)


def factory(global_conf, **local_conf):
    return TestIdentity
EOF
}

write_conf() {
  mkdir -p "$dir/store" "$dir/staging" "$dir/locks" "$dir/tasks"
  cat >"$dir/glance-api.conf" <<EOF
[DEFAULT]
bind_host = 127.0.0.1
bind_port = $port
workers = 1
log_file = $dir/glance-api.log
image_size_cap = $size_cap
enabled_import_methods = [glance-direct]
node_staging_uri = file://$dir/staging
show_image_direct_url = false

[database]
connection = sqlite:///$dir/glance.sqlite

[glance_store]
stores = file
default_store = file
filesystem_store_datadir = $dir/store/

[paste_deploy]
flavor = diskferry-tests
config_file = $dir/paste.ini

[oslo_concurrency]
lock_path = $dir/locks

[oslo_policy]
enforce_scope = false
enforce_new_defaults = false

[task]
work_dir = $dir/tasks
EOF
  cat >"$dir/clouds.yaml" <<EOF
clouds:
  glance-test:
    auth_type: none
    image_endpoint_override: http://127.0.0.1:$port
    image_api_version: '2'
EOF
}

# The recorded glance-api, if it still runs.
server_pid() {
  [ -f "$dir/pid" ] || return 1
  local pid
  pid=$(cat "$dir/pid")
  kill -0 "$pid" 2>/dev/null && grep -qa glance-api "/proc/$pid/cmdline" 2>/dev/null || return 1
  echo "$pid"
}

do_start() {
  installed || { say "glance-api is not installed (sudo $0 install)"; exit 3; }
  if server_pid >/dev/null; then fail "a Glance started with $dir still runs (stop it first)"; fi
  # A fresh start wipes DIR, so DIR must be empty, missing or one this script made before.
  if [ -d "$dir" ] && [ -n "$(ls -A "$dir")" ] && [ ! -f "$dir/glance-api.conf" ]; then
    fail "$dir is not empty and holds no Glance of ours: refusing to wipe it"
  fi
  rm -rf "$dir"
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  [ "$port" = 0 ] && port=$(free_port)
  local url="http://127.0.0.1:$port"
  write_paste
  write_conf
  glance-manage --config-file "$dir/glance-api.conf" db_sync >"$dir/db-sync.log" 2>&1 ||
    { tail -n 20 "$dir/db-sync.log" >&2; fail "glance-manage db_sync failed (log: $dir/db-sync.log)"; }
  # setsid: the server and its worker are a process group of their own, which stop signals.
  PYTHONPATH="$dir${PYTHONPATH:+:$PYTHONPATH}" setsid /usr/bin/glance-api \
    --config-file "$dir/glance-api.conf" </dev/null >"$dir/glance-api.out" 2>&1 &
  local pid=$!
  echo "$pid" >"$dir/pid"
  local deadline=$((SECONDS + wait_s))
  while [ "$SECONDS" -lt "$deadline" ]; do
    if curl -fsS -o /dev/null --max-time 3 "$url/v2/images?limit=1" 2>/dev/null; then
      echo "GLANCE_ENDPOINT=$url" >"$dir/env"
      cat "$dir/env"
      return 0
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
      tail -n 20 "$dir/glance-api.out" "$dir/glance-api.log" >&2 2>/dev/null || true
      rm -f "$dir/pid"
      fail "glance-api exited during start-up (logs in $dir)"
    fi
    sleep 0.25
  done
  tail -n 20 "$dir/glance-api.log" >&2 2>/dev/null || true
  do_stop
  fail "glance-api did not answer on $url within $wait_s s"
}

do_stop() {
  local pid
  if pid=$(server_pid); then
    kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
    local i
    for ((i = 0; i < 50; i++)); do
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.2
    done
    kill -0 "$pid" 2>/dev/null && { kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true; }
  fi
  rm -f "$dir/pid"
  if [ "$purge" = 1 ]; then rm -rf "$dir"; fi
}

command=${1:-}
[ $# -gt 0 ] && shift
dir= port=0 size_cap=1099511627776 purge=0 wait_s=${GLANCE_TEST_WAIT:-90}
while [ $# -gt 0 ]; do
  case "$1" in
    --dir) [ $# -ge 2 ] || usage "--dir needs a value"; dir=$2; shift 2 ;;
    --port) [[ ${2:-} =~ ^[0-9]+$ ]] || usage "--port needs a number"; port=$2; shift 2 ;;
    --size-cap) [[ ${2:-} =~ ^[0-9]+$ ]] || usage "--size-cap needs a number of bytes"; size_cap=$2; shift 2 ;;
    --purge) purge=1; shift ;;
    *) usage "unknown argument '$1'" ;;
  esac
done
case "$command" in
  install) do_install ;;
  start) [ -n "$dir" ] || usage "start needs --dir"; do_start ;;
  stop) [ -n "$dir" ] || usage "stop needs --dir"; [ -d "$dir" ] || exit 0; do_stop ;;
  *) usage "unknown command '${command}'" ;;
esac
