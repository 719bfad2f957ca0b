#!/usr/bin/env bash
# Builds the dashboard: the server binary and the site (WASM, JS, CSS, xterm.js) in release mode.
set -euo pipefail
source "$(dirname "$0")/common.sh"

cd "$REPO_ROOT"
# wasm-opt from npm's binaryen: Debian 12's binaryen 108 rewrites wasm-bindgen's output with its
# externref table export pointing at the function table, and the page cannot start.
export PATH="$REPO_ROOT/node_modules/.bin:$PATH"
command -v wasm-opt | grep -q node_modules || die "wasm-opt from npm is missing: run scripts/setup.sh"
log "cargo leptos build --release"
cargo leptos build --release
