#!/usr/bin/env bash
# Serves the release build on a free port with a throw-away farm instance and a throw-away
# password, runs the given command with FARM_URL, FARM_INSTANCE and FARM_PASSWORD set, then
# removes everything the run created. Used by the end-to-end tests and the browser benchmark.
# With FARM_TLS=1 the dashboard serves https with a throw-away self-signed certificate
# (FARM_URL is then https://127.0.0.1:PORT, and Node trusts the certificate).
# With FARM_CLAUDE=1 the workers run the image with the real Claude Code (CLAUDE_WORKER_IMAGE,
# default claude-worker:latest) against the tests' scripted model (server/examples/
# scripted_model.rs, on the host's address on Docker's default bridge), whose address the
# command gets as FARM_MODEL_URL.
set -euo pipefail
source "$(dirname "$0")/common.sh"

cd "$REPO_ROOT"
binary="$CARGO_TARGET_DIR/release/claude-worker-farm"
[ -x "$binary" ] || die "no release build at $binary (run scripts/build.sh)"

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
instance="cwf-run-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')"
password="pw-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
server_log=$(mktemp /tmp/claude-farm-run.XXXXXX.log)
state_dir=$(mktemp -d /tmp/claude-farm-state.XXXXXX)
pid_file="$state_dir/dashboard.pid"
scheme=http
tls=()
if [ "${FARM_TLS:-}" = 1 ]; then
  openssl req -x509 -nodes -days 2 -subj /CN=localhost \
    -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 \
    -addext subjectAltName=DNS:localhost,IP:127.0.0.1 \
    -addext basicConstraints=critical,CA:FALSE \
    -keyout "$state_dir/tls-key.pem" -out "$state_dir/tls-cert.pem" 2>/dev/null \
    || die "openssl could not make a certificate (scripts/setup.sh installs openssl)"
  scheme=https
  tls=(FARM_TLS_CERT="$state_dir/tls-cert.pem" FARM_TLS_KEY="$state_dir/tls-key.pem")
  export NODE_EXTRA_CA_CERTS="$state_dir/tls-cert.pem"
fi

image="$TEST_WORKER_IMAGE"
claude=()
model_pid=""
if [ "${FARM_CLAUDE:-}" = 1 ]; then
  cargo build --quiet -p server --example scripted_model
  "$CARGO_TARGET_DIR/debug/examples/scripted_model" >"$state_dir/model.out" 2>&1 &
  model_pid=$!
  for _ in $(seq 100); do
    grep -q '^listening on' "$state_dir/model.out" && break
    sleep 0.1
  done
  model_url=$(sed -n 's/^listening on //p' "$state_dir/model.out")
  if [ -z "$model_url" ]; then
    kill "$model_pid" 2>/dev/null || true
    die "the scripted model did not start: $(cat "$state_dir/model.out")"
  fi
  image="${CLAUDE_WORKER_IMAGE:-claude-worker:latest}"
  # A key of its own (the model takes any): the workers' environment never holds the password.
  claude=(ANTHROPIC_BASE_URL="$model_url" ANTHROPIC_API_KEY="sk-ant-scripted-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')")
  export FARM_MODEL_URL="$model_url"
fi

# The dashboard runs under a loop that starts it again whenever it dies, as a service
# manager would: a test may kill it (FARM_PID_FILE holds its pid) to see pages reconnect.
(
  while [ ! -e "$state_dir/stop" ]; do
    env "${tls[@]}" "${claude[@]}" FARM_BIND="127.0.0.1:$port" FARM_INSTANCE="$instance" WORKER_IMAGE="$image" \
      FARM_PASSWORD="$password" FARM_STATE_DIR="$state_dir" \
      LEPTOS_SITE_ROOT="$REPO_ROOT/target/site" "$binary" >>"$server_log" 2>&1 &
    echo $! >"$pid_file"
    wait $! || true
    sleep 0.2
  done
) &
supervisor=$!
cleanup() {
  touch "$state_dir/stop"
  kill "$(cat "$pid_file" 2>/dev/null)" 2>/dev/null || true
  wait "$supervisor" 2>/dev/null || true
  [ -z "$model_pid" ] || kill "$model_pid" 2>/dev/null || true
  "$REPO_ROOT/scripts/remove-instance.sh" "$instance"
  rm -rf "$server_log" "$state_dir"
}
trap cleanup EXIT

for _ in $(seq 100); do
  # Any answer will do (401 without a login): the dashboard is up.
  curl -s -o /dev/null -k "$scheme://127.0.0.1:$port/api/workers" && break
  grep -q " ERROR " "$server_log" && { cat "$server_log" >&2; die "the dashboard did not start"; }
  sleep 0.2
done

export FARM_URL="$scheme://127.0.0.1:$port" FARM_INSTANCE="$instance" FARM_PASSWORD="$password" \
  FARM_PID_FILE="$pid_file"
if ! "$@"; then
  echo "--- dashboard log ---" >&2
  cat "$server_log" >&2
  exit 1
fi
