#!/usr/bin/env bash
# Runs every benchmark, each against its baseline in the same run: worker creation against
# `docker run`, the terminal through the proxy against ttyd directly (echo, throughput,
# fan-out), the dashboard under load (20 workers x 5 viewers for LOAD_SECONDS, a flood of
# creates), and keystroke echo in headless Chromium. Figures go to docs/PERFORMANCE.md by hand.
set -euo pipefail
source "$(dirname "$0")/common.sh"

cd "$REPO_ROOT"
"$REPO_ROOT/scripts/setup.sh"
INSTALL_CLAUDE=0 WORKER_IMAGE="$TEST_WORKER_IMAGE" "$REPO_ROOT/scripts/build-worker-image.sh"
export WORKER_IMAGE="$TEST_WORKER_IMAGE"
"$REPO_ROOT/scripts/build.sh"
cargo bench -p server --bench create_to_ready
cargo bench -p server --bench terminal
cargo bench -p server --bench load
cargo bench -p server --bench agent_status
"$REPO_ROOT/scripts/with-farm.sh" node end2end/bench/keystroke.mjs
