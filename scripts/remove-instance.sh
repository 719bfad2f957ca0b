#!/usr/bin/env bash
# Removes every container, the network and the shared volumes of one farm instance
# (FARM_INSTANCE; the tests use throw-away ones). Deletes the workers' data: use with care.
set -euo pipefail
source "$(dirname "$0")/common.sh"

instance=${1:?usage: remove-instance.sh INSTANCE}
ids=$(docker ps -aq --filter "label=farm.claude-worker.instance=$instance")
[ -z "$ids" ] || docker rm -f $ids >/dev/null
docker network rm "${instance}_workers" >/dev/null 2>&1 || true
docker volume rm "${instance}_shared-repos" "${instance}_shared-state" >/dev/null 2>&1 || true
