#!/usr/bin/env bash
# End-to-end test: serves the release build on a free port with a throw-away farm instance,
# drives it with headless Chromium (end2end/), then removes everything the run created.
set -euo pipefail
source "$(dirname "$0")/common.sh"

cd "$REPO_ROOT"
[ -x /usr/bin/chromium ] || die "Chromium is missing at /usr/bin/chromium (scripts/setup.sh installs it)"
binary="$CARGO_TARGET_DIR/release/claude-worker-farm"
[ -x "$binary" ] || die "no release build at $binary (run scripts/build.sh)"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
instance="cwf-e2e-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
server_log=$(mktemp /tmp/claude-farm-e2e.XXXXXX.log)
export SCREENSHOT_DIR="$REPO_ROOT/end2end/screenshots"
mkdir -p "$SCREENSHOT_DIR"

FARM_BIND="127.0.0.1:$port" FARM_INSTANCE="$instance" WORKER_IMAGE="$TEST_WORKER_IMAGE" \
  LEPTOS_SITE_ROOT="$REPO_ROOT/target/site" "$binary" >"$server_log" 2>&1 &
server=$!
cleanup() {
  kill "$server" 2>/dev/null || true
  wait "$server" 2>/dev/null || true
  "$REPO_ROOT/scripts/remove-instance.sh" "$instance"
}
trap cleanup EXIT

for _ in $(seq 100); do
  curl -fs "http://127.0.0.1:$port/api/workers" >/dev/null && break
  kill -0 "$server" 2>/dev/null || { cat "$server_log" >&2; die "the dashboard exited"; }
  sleep 0.2
done

export FARM_URL="http://127.0.0.1:$port"
if ! node --test --test-reporter=spec end2end/tests/*.test.mjs; then
  echo "--- dashboard log ---" >&2
  cat "$server_log" >&2
  exit 1
fi
