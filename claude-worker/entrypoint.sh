#!/bin/sh
# Starts one worker: clones GIT_REPO (if given) into /shared/repos/$WORKER_ID, then serves
# the tmux session "main" through ttyd. Every connection attaches to the same session.
# The URL is only ever passed to git as an argument after `--`, never through a shell string.
set -eu

id="${WORKER_ID:?WORKER_ID is required}"
workdir="$HOME"

if [ -n "${GIT_REPO:-}" ]; then
  dest="/shared/repos/$id"
  if [ -d "$dest/.git" ]; then
    echo "claude-worker: repository already present in $dest"
  else
    echo "claude-worker: cloning into $dest"
    # Only network transports: no ext::, no file://, no local paths, whatever the URL says.
    if ! GIT_ALLOW_PROTOCOL=https:http:ssh:git GIT_TERMINAL_PROMPT=0 \
        git clone --progress -- "$GIT_REPO" "$dest"; then
      echo "claude-worker: git clone failed; see the lines above" >&2
      exit 3
    fi
  fi
  workdir="$dest"
fi

echo "claude-worker: terminal ready on port 7681"
exec ttyd --writable --port 7681 --ping-interval 20 \
  tmux new-session -A -s main -c "$workdir"
