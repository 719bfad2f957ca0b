#!/usr/bin/env bash
# End-to-end test: drives a throw-away farm (scripts/with-farm.sh) with headless Chromium
# (end2end/), one test file after the other (they share the farm), then the https tests
# against a second farm that serves TLS itself, then the real Claude Code's tests against a
# third whose workers run it (with the scripted model). Screenshots land in
# end2end/screenshots/.
set -euo pipefail
source "$(dirname "$0")/common.sh"

cd "$REPO_ROOT"
[ -x /usr/bin/chromium ] || die "Chromium is missing at /usr/bin/chromium (scripts/setup.sh installs it)"
export SCREENSHOT_DIR="$REPO_ROOT/end2end/screenshots"
mkdir -p "$SCREENSHOT_DIR"
"$REPO_ROOT/scripts/with-farm.sh" node --test --test-concurrency=1 --test-reporter=spec end2end/tests/*.test.mjs
FARM_TLS=1 "$REPO_ROOT/scripts/with-farm.sh" node --test --test-concurrency=1 --test-reporter=spec end2end/tls/*.test.mjs
FARM_CLAUDE=1 "$REPO_ROOT/scripts/with-farm.sh" node --test --test-concurrency=1 --test-reporter=spec end2end/claude/*.test.mjs
