#!/bin/sh
# Starts one worker: clones GIT_REPO (if given) into /shared/repos/$WORKER_ID, then serves
# the tmux session "main" through ttyd. Every connection attaches to the same session.
# The URL is only ever passed to git as an argument after `--`, never through a shell string.
set -eu

id="${WORKER_ID:?WORKER_ID is required}"
workdir="$HOME"
# Shown once, when the tmux session is created: what the user must know before typing.
banner=/tmp/claude-worker-banner
: >"$banner"

if [ -n "${GIT_REPO:-}" ]; then
  dest="/shared/repos/$id"
  if [ -d "$dest/.git" ]; then
    echo "claude-worker: repository already present in $dest"
    workdir="$dest"
  else
    echo "claude-worker: cloning into $dest"
    clone_log=/tmp/claude-worker-clone.log
    # Only network transports: no ext::, no file://, no local paths, whatever the URL says.
    if GIT_ALLOW_PROTOCOL=https:http:ssh GIT_TERMINAL_PROMPT=0 \
        git clone --progress -- "$GIT_REPO" "$dest" >"$clone_log" 2>&1; then
      cat "$clone_log"
      workdir="$dest"
    else
      cat "$clone_log" >&2
      echo "claude-worker: git clone failed; the terminal starts in $HOME" >&2
      # A failed clone must not leave a worker that restarts forever or an empty folder
      # that looks like a repository: keep the terminal, say what happened.
      rm -rf "$dest"
      {
        printf '\033[1;31mThe repository could not be cloned:\033[0m\n'
        tail -n 5 "$clone_log"
        printf 'Clone it by hand into %s, or delete this worker and create it again.\n\n' "$dest"
      } >"$banner"
    fi
  fi
fi

echo "claude-worker: terminal ready on port 7681"
exec ttyd --writable --port 7681 --ping-interval 20 \
  tmux new-session -A -s main -c "$workdir" "cat $banner; exec bash -l"
