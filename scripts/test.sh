#!/usr/bin/env bash
# Runs every test: formatting and lints (server and WASM builds), unit tests, the Docker
# integration tests, the release build, a short fuzzing run, and the end-to-end test in
# headless Chromium.
# Installs and starts what is missing first. A missing Docker engine, Chromium or image is
# a failure, never a skip.
set -euo pipefail
source "$(dirname "$0")/common.sh"

cd "$REPO_ROOT"
# Incremental artefacts only help an edit-compile loop; in the shared target dir they grow
# by gigabytes per run.
export CARGO_INCREMENTAL=0
started=$(date +%s)
step() { log "$1 ($(( $(date +%s) - started )) s)"; }

step "setup"
"$REPO_ROOT/scripts/setup.sh"
step "worker image for tests (without the Claude Code CLI)"
INSTALL_CLAUDE=0 WORKER_IMAGE="$TEST_WORKER_IMAGE" "$REPO_ROOT/scripts/build-worker-image.sh"
# The real Claude Code runs in the tests too (against a scripted model): the image users run.
step "worker image with the Claude Code CLI"
WORKER_IMAGE="$WORKER_IMAGE" "$REPO_ROOT/scripts/build-worker-image.sh"
export CLAUDE_WORKER_IMAGE="$WORKER_IMAGE"
export WORKER_IMAGE="$TEST_WORKER_IMAGE"

step "cargo fmt"
cargo fmt --all -- --check
cargo fmt --manifest-path fuzz/Cargo.toml -- --check
step "clippy (server side)"
cargo clippy --workspace --exclude frontend --all-targets -- -D warnings
step "clippy (browser side)"
cargo clippy -p frontend --target wasm32-unknown-unknown -- -D warnings

# The release build comes first: the compose test puts it in the dashboard's image.
step "release build"
"$REPO_ROOT/scripts/build.sh"

step "unit and Docker integration tests"
cargo test --workspace --exclude frontend -- --nocapture

step "fuzzing, ${FUZZ_SECONDS:-20} s per target"
"$REPO_ROOT/scripts/fuzz.sh"

step "end-to-end test in headless Chromium"
"$REPO_ROOT/scripts/e2e.sh"

step "all tests passed"
