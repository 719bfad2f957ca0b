#!/usr/bin/env bash
# Builds the worker image (claude-worker/) FROM the local base, once per change of its files.
#   WORKER_IMAGE     tag to build (default claude-worker:latest)
#   INSTALL_CLAUDE   1 (default) installs the Claude Code CLI; 0 leaves it out (tests)
#   WORKER_EXTRA_CA  a PEM file the image must trust; by default the certificates this
#                    machine added to /usr/local/share/ca-certificates (corporate proxies)
set -euo pipefail
source "$(dirname "$0")/common.sh"

install_claude=${INSTALL_CLAUDE:-1}
context="$REPO_ROOT/claude-worker"
hash="$(context_hash "$context")-claude$install_claude"

if [ "$(docker image inspect -f '{{ index .Config.Labels "farm.claude-worker.context" }}' "$WORKER_IMAGE" 2>/dev/null)" = "$hash" ]; then
  exit 0
fi

"$REPO_ROOT/scripts/build-base-image.sh"

rm -f "$context"/certs/*.crt
if [ -n "${WORKER_EXTRA_CA:-}" ]; then
  cp "$WORKER_EXTRA_CA" "$context/certs/extra.crt"
else
  find /usr/local/share/ca-certificates -name '*.crt' -exec cp {} "$context/certs/" \; 2>/dev/null || true
fi

log "building $WORKER_IMAGE (Claude Code CLI: $install_claude)"
start=$(date +%s)
docker build --quiet \
  --build-arg BASE="$BASE_IMAGE" \
  --build-arg INSTALL_CLAUDE="$install_claude" \
  --label farm.claude-worker.context="$hash" \
  -t "$WORKER_IMAGE" "$context" >/dev/null
log "built $WORKER_IMAGE in $(( $(date +%s) - start )) s"
