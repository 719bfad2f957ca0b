# Shared by the scripts in this folder: paths, names and small helpers. Source it, do not run it.
# shellcheck shell=bash

REPO_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
export REPO_ROOT

# The cargo target dir lives outside the clone so that a fresh clone on the same machine
# (as CI makes) reuses the compiled dependencies.
export CARGO_TARGET_DIR=${CARGO_TARGET_DIR:-/var/cache/claude-worker-farm/target}
export PATH="$HOME/.cargo/bin:$PATH"

# Pinned tool versions: wasm-bindgen-cli must equal the wasm-bindgen crate in Cargo.toml.
CARGO_LEPTOS_VERSION=0.3.10
WASM_BINDGEN_VERSION=0.2.130

# Local image names. The base is made with debootstrap where no image registry answers.
BASE_IMAGE=${FARM_BASE_IMAGE:-claude-farm-base:sid}
WORKER_IMAGE=${WORKER_IMAGE:-claude-worker:latest}
# The image the tests use: the worker without the Claude Code CLI, quick to build.
TEST_WORKER_IMAGE=claude-worker:test

log() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# The Debian mirror this machine's apt already uses (never hard-coded in the repo).
debian_mirror() {
  local uri
  uri=$(grep -h '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $2}' | grep -v security | head -n 1)
  [ -n "$uri" ] || uri=$(grep -h '^deb ' /etc/apt/sources.list 2>/dev/null | awk '{print $2}' | head -n 1)
  [ -n "$uri" ] || die "no Debian mirror found in /etc/apt/sources.list{,.d}"
  printf '%s\n' "$uri"
}

# A sha256 of every file that goes into an image, so an image is rebuilt only when they change.
context_hash() {
  (cd "$1" && find . -type f ! -name '*.crt' -print0 | sort -z | xargs -0 sha256sum) | sha256sum | cut -c1-16
}
