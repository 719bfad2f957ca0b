#!/usr/bin/env bash
# Installs and starts whatever this machine lacks to build, run and test the farm.
# Every step is skipped when its result is already present, so a warm run takes seconds.
set -euo pipefail
source "$(dirname "$0")/common.sh"

# The Rust tools take most of a first run (cargo-leptos alone ~15 minutes on 2 cores): build
# them in the background while the downloads below proceed.
install_rust_tools() {
  if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION"; then
    log "installing wasm-bindgen-cli $WASM_BINDGEN_VERSION"
    cargo install wasm-bindgen-cli --version "=$WASM_BINDGEN_VERSION" --force
  fi
  if ! cargo leptos --version 2>/dev/null | grep -q " $CARGO_LEPTOS_VERSION"; then
    log "installing cargo-leptos $CARGO_LEPTOS_VERSION (about 15 minutes, once per machine)"
    cargo install cargo-leptos --version "$CARGO_LEPTOS_VERSION" --locked --features no_downloads --force
  fi
}
rust_tools_log=$(mktemp /tmp/claude-farm-rust-tools.XXXXXX.log)
if ! wasm-bindgen --version 2>/dev/null | grep -q " $WASM_BINDGEN_VERSION" \
  || ! cargo leptos --version 2>/dev/null | grep -q " $CARGO_LEPTOS_VERSION"; then
  log "building wasm-bindgen-cli and cargo-leptos in the background (log: $rust_tools_log)"
fi
install_rust_tools >"$rust_tools_log" 2>&1 &
rust_tools=$!

apt_packages=(docker.io iptables iproute2 debootstrap chromium redis-server fonts-dejavu-core curl xz-utils git openssl)

need_apt=()
for pkg in "${apt_packages[@]}"; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need_apt+=("$pkg")
done
if [ ${#need_apt[@]} -gt 0 ]; then
  log "installing Debian packages: ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need_apt[@]}" >/dev/null
fi

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  log "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

if [ ! -x "$REPO_ROOT/node_modules/.bin/wasm-opt" ] || [ "$REPO_ROOT/package-lock.json" -nt "$REPO_ROOT/node_modules/.package-lock.json" ]; then
  log "installing npm packages from package-lock.json"
  (cd "$REPO_ROOT" && npm ci --no-audit --no-fund --loglevel=error)
fi

"$REPO_ROOT/scripts/start-docker.sh"
"$REPO_ROOT/scripts/install-compose.sh"

if ! wait "$rust_tools"; then
  tail -n 40 "$rust_tools_log" >&2
  die "installing the Rust tools failed (full log: $rust_tools_log)"
fi
rm -f "$rust_tools_log"
