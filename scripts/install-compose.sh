#!/usr/bin/env bash
# Installs Docker Compose v2 as a docker CLI plugin when `docker compose` is missing.
# Debian 12 ships only the old Python docker-compose 1.x; Debian 13's docker-compose package
# is Compose v2 as one static binary, so it is taken from this machine's Debian mirror, its
# checksum checked from Debian's signed release file down.
set -euo pipefail
source "$(dirname "$0")/common.sh"

docker compose version >/dev/null 2>&1 && exit 0

suite=trixie
arch=$(dpkg --print-architecture)
mirror=$(debian_mirror)
log "installing Docker Compose v2 from Debian $suite"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The release file is signed by Debian; it holds the index's checksum, the index the package's.
curl -fsS -o "$work/InRelease" "$mirror/dists/$suite/InRelease"
gpgv --keyring /usr/share/keyrings/debian-archive-keyring.gpg "$work/InRelease" 2>/dev/null \
  || die "Debian $suite's release file has no valid signature"
index=main/binary-$arch/Packages.xz
index_sum=$(awk -v f="$index" '/^SHA256:/ {s = 1; next} /^[A-Za-z]/ {s = 0} s && $3 == f {print $1}' "$work/InRelease")
curl -fsS -o "$work/Packages.xz" "$mirror/dists/$suite/$index"
echo "$index_sum  $work/Packages.xz" | sha256sum -c --quiet - || die "checksum mismatch for $index"
xz -d "$work/Packages.xz"
entry=$(awk '/^Package: docker-compose$/ {p = 1} p && /^(Filename|SHA256):/ {print} p && /^$/ {exit}' "$work/Packages")
file=$(awk '/^Filename:/ {print $2}' <<<"$entry")
sum=$(awk '/^SHA256:/ {print $2}' <<<"$entry")
[ -n "$file" ] && [ -n "$sum" ] || die "docker-compose not found in Debian $suite's package index"
curl -fsS -o "$work/compose.deb" "$mirror/$file"
echo "$sum  $work/compose.deb" | sha256sum -c --quiet - || die "checksum mismatch for $file"
dpkg-deb -x "$work/compose.deb" "$work/root"
install -D -m 755 "$work/root/usr/libexec/docker/cli-plugins/docker-compose" \
  /usr/local/lib/docker/cli-plugins/docker-compose
docker compose version
