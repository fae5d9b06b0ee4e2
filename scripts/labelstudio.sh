#!/usr/bin/env bash
# A throw-away Label Studio server for the integration tests and for trying the annotation loop.
#
#   scripts/labelstudio.sh install   venv with label-studio==1.23.2 (LS_VENV, default .ls-venv); idempotent
#   scripts/labelstudio.sh start     start on 127.0.0.1 on a free port with a pre-created user and legacy token;
#                                    prints `export LABEL_STUDIO_URL=... LABEL_STUDIO_API_KEY=...` (what
#                                    `sourcemark ls` reads), the same as LABEL_STUDIO_TEST_URL/_TOKEN for the
#                                    tests (and LABEL_STUDIO_TEST_PAT, a personal access token of the same user;
#                                    LABEL_STUDIO_TEST_USER and _PASSWORD_FILE, the browser login), so
#                                    `eval "$(scripts/labelstudio.sh start)"` sets them; on stderr it says where
#                                    to log in with a browser: the URL, the user and the file with the password
#   scripts/labelstudio.sh stop      SIGTERM the server started by `start` and wait for it to exit
#   scripts/labelstudio.sh status    say whether that server is running
#
# Label Studio gets its own venv because it pins Django, pyarrow and label-studio-sdk versions that
# must not leak into sourcemark's environment. The first start of an empty data dir runs ~60 s of
# migrations, so `start` initialises a template data dir once (kept in LS_STATE_DIR, keyed by the
# Label Studio version) and copies it for every run: a start then takes a few seconds and every run
# begins with an empty, private database.
#
# Environment: LS_VENV (venv path; LS_VENV=/work/lsvenv reuses an existing install), LS_STATE_DIR
# (the template cache; default ~/.cache/sourcemark-labelstudio), LS_RUN_DIR (pid file, env file, log
# and the run's data dir; default /tmp/sourcemark-ls-<uid>-<checkout>), LS_PORT (preferred port;
# default: any free port), LS_START_TIMEOUT (seconds, default 180), LS_PIP (extra pip options).
# `start` also writes the export lines to $LS_RUN_DIR/env so that a CI script can `source` them.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
LS_VERSION="1.23.2"
LS_VENV="${LS_VENV:-$ROOT/.ls-venv}"
# The template is a cache shared by every checkout; a run's files (pid, env, log, data dir) are per
# checkout, so two checkouts (or CI jobs) on one machine never stop each other's server.
STATE="${LS_STATE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/sourcemark-labelstudio}"
ROOT_KEY="$(printf '%s' "$ROOT" | cksum | cut -d' ' -f1)"
RUN="${LS_RUN_DIR:-${TMPDIR:-/tmp}/sourcemark-ls-$(id -u)-$ROOT_KEY}"
PID_FILE="$RUN/server.pid"
ENV_FILE="$RUN/env"
LOG_FILE="$RUN/server.log"
TEMPLATE="$STATE/template-$LS_VERSION"
START_TIMEOUT="${LS_START_TIMEOUT:-180}"

LS_USER="sourcemark@localhost"  # the login of the pre-created user; its password is in $TEMPLATE/password

die() { echo "labelstudio.sh: $*" >&2; exit 1; }
say() { echo "labelstudio.sh: $*" >&2; }

ls_bin() { echo "$LS_VENV/bin/label-studio"; }

installed_version() {
  [ -x "$LS_VENV/bin/python" ] || return 1
  "$LS_VENV/bin/python" - <<'EOF' 2>/dev/null
from importlib.metadata import version
print(version("label-studio"))
EOF
}

cmd_install() {
  if [ "$(installed_version || true)" = "$LS_VERSION" ] && [ -x "$(ls_bin)" ]; then
    say "label-studio $LS_VERSION already installed in $LS_VENV"
    return 0
  fi
  [ -x "$LS_VENV/bin/python" ] || "${PYTHON:-python3}" -m venv "$LS_VENV"
  say "installing label-studio $LS_VERSION into $LS_VENV (about 1 GB, a few minutes)..."
  # shellcheck disable=SC2086
  "$LS_VENV/bin/python" -m pip install -q ${LS_PIP:-} "label-studio==$LS_VERSION"
  [ "$(installed_version)" = "$LS_VERSION" ] || die "label-studio $LS_VERSION did not install into $LS_VENV"
  say "label-studio $LS_VERSION installed in $LS_VENV"
}

# The environment every Label Studio process of this script runs with: headless, no telemetry, no
# update check, and an ML backend on localhost allowed (the tests register one on 127.0.0.1).
# An array, not a function: `env "${LS_ENV[@]}" cmd &` keeps $! the pid of Label Studio itself
# (a backgrounded function would be a subshell, and SIGTERM to it would not reach the server).
LS_ENV=(-u LABEL_STUDIO_URL -u LABEL_STUDIO_API_KEY
  LATEST_VERSION_CHECK=false SENTRY_DSN= FRONTEND_SENTRY_DSN= COLLECT_ANALYTICS=false
  ML_BLOCK_LOCAL_IP=false SSRF_PROTECTION_ENABLED=false LOG_LEVEL="${LS_LOG_LEVEL:-WARNING}"
  DJANGO_DB=sqlite)

random_secret() { "$LS_VENV/bin/python" -c 'import secrets; print(secrets.token_hex(20))'; }

make_template() {
  [ -f "$TEMPLATE/.ready" ] && return 0
  [ -x "$(ls_bin)" ] || die "no label-studio in $LS_VENV: run 'scripts/labelstudio.sh install' (or set LS_VENV)"
  say "initialising a template data dir once (database migrations, about a minute)..."
  local tmp="$STATE/template.tmp.$$"
  rm -rf "$tmp"
  umask 077
  mkdir -p "$tmp/data"
  local token password
  token="$(random_secret)"
  password="$(random_secret)"
  env "${LS_ENV[@]}" LABEL_STUDIO_BASE_DATA_DIR="$tmp/data" LABEL_STUDIO_USERNAME="$LS_USER" \
    LABEL_STUDIO_PASSWORD="$password" LABEL_STUDIO_USER_TOKEN="$token" \
    LABEL_STUDIO_ENABLE_LEGACY_API_TOKEN=true \
    "$(ls_bin)" init -q --enable-legacy-api-token >"$tmp/init.log" 2>&1 \
    || { tail -20 "$tmp/init.log" >&2; die "label-studio init failed (log: $tmp/init.log)"; }
  printf '%s\n' "$token" >"$tmp/token"
  printf '%s\n' "$password" >"$tmp/password"
  touch "$tmp/.ready"
  if [ -f "$TEMPLATE/.ready" ]; then
    rm -rf "$tmp"  # another start finished its template first: use that one
  else
    rm -rf "$TEMPLATE"
    mv "$tmp" "$TEMPLATE"
  fi
}

free_port() {
  "$LS_VENV/bin/python" - "${LS_PORT:-0}" <<'EOF'
import socket, sys
want = int(sys.argv[1])
for port in ([want] if want else []) + [0]:
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            continue
        print(s.getsockname()[1])
        break
EOF
}

# True when the process $1 itself holds the listening socket on port $2 (Linux /proc). Label Studio
# silently moves to the next port when its port is busy, so "something answers" is not enough.
owns_port() {
  "$LS_VENV/bin/python" - "$1" "$2" <<'EOF'
import os, sys
pid, port = sys.argv[1], int(sys.argv[2])
if not os.path.exists("/proc/net/tcp"):
    sys.exit(0)  # no /proc (not Linux): the "is in use" check on the log has to do
inodes = set()
for table in ("/proc/net/tcp", "/proc/net/tcp6"):
    try:
        rows = open(table).read().splitlines()[1:]
    except OSError:
        continue
    for row in rows:
        f = row.split()
        if int(f[1].rsplit(":", 1)[1], 16) == port and f[3] == "0A":  # 0A = LISTEN
            inodes.add(f[9])
if not inodes:
    sys.exit(1)
try:
    fds = os.listdir(f"/proc/{pid}/fd")
except OSError:
    sys.exit(1)
for fd in fds:
    try:
        link = os.readlink(f"/proc/{pid}/fd/{fd}")
    except OSError:
        continue
    if link.startswith("socket:[") and link[8:-1] in inodes:
        sys.exit(0)
sys.exit(1)
EOF
}

# The export lines for the server at $1 with legacy token $2 and personal access token $3 (may be empty).
env_lines() {
  echo "export LABEL_STUDIO_URL=$1 LABEL_STUDIO_API_KEY=$2"
  echo "export LABEL_STUDIO_TEST_URL=$1"
  echo "export LABEL_STUDIO_TEST_TOKEN=$2"
  if [ -n "$3" ]; then echo "export LABEL_STUDIO_TEST_PAT=$3"; fi
  echo "export LABEL_STUDIO_TEST_USER=$LS_USER"
  echo "export LABEL_STUDIO_TEST_PASSWORD_FILE=$TEMPLATE/password"
}

# Print the running server's export lines (on stdout, for eval) and how to log in (on stderr). The lines
# are made again from the env file, so a server started by an older version of this script gets them too.
show_env() {
  local url token pat
  url="$(sed -n 's/^export LABEL_STUDIO_TEST_URL=//p' "$ENV_FILE")"
  token="$(sed -n 's/^export LABEL_STUDIO_TEST_TOKEN=//p' "$ENV_FILE")"
  pat="$(sed -n 's/^export LABEL_STUDIO_TEST_PAT=//p' "$ENV_FILE")"
  env_lines "$url" "$token" "$pat"
  say "open $url in a browser and log in as $LS_USER; the password is in $TEMPLATE/password"
}

running_pid() {
  [ -f "$PID_FILE" ] || return 1
  local pid
  pid="$(cat "$PID_FILE")"
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

cmd_start() {
  mkdir -p "$STATE" "$RUN"
  chmod 700 "$STATE" "$RUN"
  if pid="$(running_pid)"; then
    say "already running (pid $pid); its settings:"
    show_env
    return 0
  fi
  make_template
  local attempt port data pid url token
  token="$(cat "$TEMPLATE/token")"
  for attempt in 1 2 3; do
    port="$(free_port)"
    [ -n "$port" ] || die "no free port"
    data="$RUN/data-$port"
    rm -rf "$data"
    cp -a "$TEMPLATE/data" "$data"
    url="http://127.0.0.1:$port"
    env "${LS_ENV[@]}" LABEL_STUDIO_BASE_DATA_DIR="$data" \
      nohup "$(ls_bin)" start --no-browser --internal-host 127.0.0.1 --port "$port" \
      >"$LOG_FILE" 2>&1 </dev/null &
    pid=$!
    echo "$pid" >"$PID_FILE"
    echo "$data" >"$RUN/server.data"
    local waited=0 up=0
    while [ "$waited" -lt "$START_TIMEOUT" ]; do
      if ! kill -0 "$pid" 2>/dev/null; then
        break
      fi
      if grep -q "is in use" "$LOG_FILE" 2>/dev/null; then
        break  # our port was taken between the check and the start: Label Studio moved elsewhere
      fi
      if curl -fsS -m 2 "$url/health" >/dev/null 2>&1; then
        up=1
        break
      fi
      sleep 1
      waited=$((waited + 1))
    done
    if [ "$up" = 1 ] && owns_port "$pid" "$port"; then
      # a personal access token too (a JWT refresh token), so the tests cover both kinds of token
      local pat
      pat="$(curl -fsS -m 10 -X POST -H "Authorization: Token $token" "$url/api/token/" 2>/dev/null \
        | "$LS_VENV/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["token"])' 2>/dev/null || true)"
      env_lines "$url" "$token" "$pat" >"$ENV_FILE"
      chmod 600 "$ENV_FILE"
      say "Label Studio $LS_VERSION up at $url (pid $pid, data $data, log $LOG_FILE) after ${waited}s"
      show_env
      return 0
    fi
    say "attempt $attempt: server on port $port did not come up as ours; log tail:"
    tail -5 "$LOG_FILE" >&2 || true
    stop_pid "$pid"
    rm -f "$PID_FILE"
    rm -rf "$data"
  done
  die "could not start Label Studio (log: $LOG_FILE)"
}

stop_pid() {
  local pid="$1" waited=0
  kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  while kill -0 "$pid" 2>/dev/null && [ "$waited" -lt 30 ]; do
    sleep 0.5
    waited=$((waited + 1))
  done
  if kill -0 "$pid" 2>/dev/null; then
    say "pid $pid ignored SIGTERM for 15 s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
}

cmd_stop() {
  local pid
  if pid="$(running_pid)"; then
    stop_pid "$pid"
    say "stopped Label Studio (pid $pid)"
  else
    say "no Label Studio started by this script is running"
  fi
  rm -f "$PID_FILE" "$ENV_FILE"
  if [ -f "$RUN/server.data" ]; then
    rm -rf "$(cat "$RUN/server.data")"
    rm -f "$RUN/server.data"
  fi
}

cmd_status() {
  local pid
  if pid="$(running_pid)"; then
    say "running (pid $pid)"
    if [ -f "$ENV_FILE" ]; then show_env; fi
  else
    say "not running"
    return 1
  fi
}

case "${1:-}" in
  install) cmd_install ;;
  start) cmd_start ;;
  stop) cmd_stop ;;
  status) cmd_status ;;
  *) echo "usage: $0 install|start|stop|status" >&2; exit 2 ;;
esac
