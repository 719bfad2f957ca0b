#!/usr/bin/env bash
# Serves the release build on a free port with a throw-away farm instance and a throw-away
# password, runs the given command with FARM_URL, FARM_INSTANCE and FARM_PASSWORD set, then
# removes everything the run created. Used by the end-to-end tests and the browser benchmark.
set -euo pipefail
source "$(dirname "$0")/common.sh"

cd "$REPO_ROOT"
binary="$CARGO_TARGET_DIR/release/claude-worker-farm"
[ -x "$binary" ] || die "no release build at $binary (run scripts/build.sh)"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
instance="cwf-run-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
password="pw-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
server_log=$(mktemp /tmp/claude-farm-run.XXXXXX.log)

FARM_BIND="127.0.0.1:$port" FARM_INSTANCE="$instance" WORKER_IMAGE="$TEST_WORKER_IMAGE" \
  FARM_PASSWORD="$password" LEPTOS_SITE_ROOT="$REPO_ROOT/target/site" "$binary" >"$server_log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  "$REPO_ROOT/scripts/remove-instance.sh" "$instance"
  rm -f "$server_log"
}
trap cleanup EXIT

for _ in $(seq 100); do
  # Any answer will do (401 without a login): the dashboard is up.
  curl -s -o /dev/null "http://127.0.0.1:$port/api/workers" && break
  kill -0 "$server" 2>/dev/null || { cat "$server_log" >&2; die "the dashboard exited"; }
  sleep 0.2
done

export FARM_URL="http://127.0.0.1:$port" FARM_INSTANCE="$instance" FARM_PASSWORD="$password"
if ! "$@"; then
  echo "--- dashboard log ---" >&2
  cat "$server_log" >&2
  exit 1
fi
