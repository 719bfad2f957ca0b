#!/usr/bin/env bash
# Runs the farm on this machine: installs what is missing, builds the worker image and the
# dashboard, then serves the dashboard (http://127.0.0.1:8080 unless FARM_BIND says otherwise).
# Settings come from the environment or from .env (see .env.example).
set -euo pipefail
source "$(dirname "$0")/common.sh"

cd "$REPO_ROOT"
if [ -f .env ]; then
  set -a
  # shellcheck disable=SC1091
  source .env
  set +a
fi
"$REPO_ROOT/scripts/setup.sh"
"$REPO_ROOT/scripts/build-worker-image.sh"
"$REPO_ROOT/scripts/build.sh"
export LEPTOS_SITE_ROOT="$REPO_ROOT/target/site"
exec "$CARGO_TARGET_DIR/release/claude-worker-farm" "$@"
