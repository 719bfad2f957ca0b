#!/usr/bin/env bash
# Builds the dashboard: the server binary and the site (WASM, JS, CSS, xterm.js) in release mode.
set -euo pipefail
source "$(dirname "$0")/common.sh"

cd "$REPO_ROOT"
log "cargo leptos build --release"
cargo leptos build --release
