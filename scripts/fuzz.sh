#!/usr/bin/env bash
# Fuzzes everything the farm parses from untrusted input (fuzz/fuzz_targets/), each target
# for FUZZ_SECONDS (default 20), with cargo-fuzz and libFuzzer on the nightly compiler that
# these machines carry. A crash fails the run and leaves its input in fuzz/artifacts/.
# Corpora grow in fuzz/corpus/ (git-ignored) and make later runs start further.
set -euo pipefail
source "$(dirname "$0")/common.sh"

seconds="${FUZZ_SECONDS:-20}"
rustup run nightly rustc --version >/dev/null 2>&1 \
  || die "the nightly Rust compiler is missing (rustup toolchain install nightly): cargo-fuzz needs it"
if ! cargo fuzz --version >/dev/null 2>&1; then
  log "installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi

cd "$REPO_ROOT/fuzz"
# Its own target dir: instrumented builds share nothing with the workspace's.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$REPO_ROOT/target}/fuzz"
for target in $(cargo fuzz list); do
  log "fuzzing $target for ${seconds}s"
  output=$(mktemp)
  if ! cargo +nightly fuzz run "$target" -- -max_total_time="$seconds" -rss_limit_mb=2048 >"$output" 2>&1; then
    tail -n 60 "$output" >&2
    rm -f "$output"
    die "fuzz target $target failed (its input is in fuzz/artifacts/$target)"
  fi
  grep -E '^Done [0-9]+ runs' "$output" || tail -n 3 "$output"
  rm -f "$output"
done
