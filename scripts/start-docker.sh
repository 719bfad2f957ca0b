#!/usr/bin/env bash
# Makes sure a Docker engine answers: starts dockerd in the background if none runs.
set -euo pipefail
source "$(dirname "$0")/common.sh"

docker info >/dev/null 2>&1 && exit 0
command -v dockerd >/dev/null || die "no Docker engine answers and dockerd is not installed (run scripts/setup.sh)"
log "starting dockerd (log: /var/log/dockerd.log)"
setsid dockerd >/var/log/dockerd.log 2>&1 < /dev/null &
for _ in $(seq 60); do
  docker info >/dev/null 2>&1 && exit 0
  sleep 1
done
tail -n 20 /var/log/dockerd.log >&2
die "dockerd did not answer within 60 s"
