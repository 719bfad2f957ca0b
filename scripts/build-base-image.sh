#!/usr/bin/env bash
# Builds the local Debian sid base image of the worker with debootstrap + `docker import`,
# for machines that reach the Debian archive but no image registry. ttyd is only in sid.
# Skipped when the image exists; FARM_BASE_IMAGE names it.
set -euo pipefail
source "$(dirname "$0")/common.sh"

docker image inspect "$BASE_IMAGE" >/dev/null 2>&1 && exit 0

mirror=$(debian_mirror)
rootfs=$(mktemp -d /var/tmp/claude-farm-rootfs.XXXXXX)
trap 'rm -rf "$rootfs"' EXIT
log "debootstrap sid into $rootfs"
debootstrap --variant=minbase --include=ttyd,tmux,git,ca-certificates,tini,openssh-client \
  sid "$rootfs" "$mirror" >/var/tmp/claude-farm-debootstrap.log 2>&1 \
  || { tail -n 30 /var/tmp/claude-farm-debootstrap.log >&2; die "debootstrap failed"; }
# A frozen mirror's Release files may be past their Valid-Until date; apt inside the image
# must still accept them.
echo 'Acquire::Check-Valid-Until "false";' >"$rootfs/etc/apt/apt.conf.d/10farm-no-check-valid"
rm -rf "$rootfs"/var/cache/apt/archives/*.deb "$rootfs"/var/lib/apt/lists/*
log "importing $BASE_IMAGE"
tar -C "$rootfs" -c . | docker import - "$BASE_IMAGE" >/dev/null
