#!/bin/sh
# Starts one worker: clones GIT_REPO (if given) into /shared/repos/$WORKER_ID, then serves
# the tmux session "main" through ttyd. Every connection attaches to the same session.
# The URL is only ever passed to git as an argument after `--`, never through a shell string.
set -eu

id="${WORKER_ID:?WORKER_ID is required}"
workdir="$HOME"
# The dashboard reads the "claude-worker: ..." lines from the container's log to know how far
# the setup got (src/setup.rs holds the same words): keep them in step.
echo "claude-worker: starting"
# The agent of the previous run is gone; its last hook event says nothing now.
rm -f "$HOME/.claude-worker/agent.json"
# Shown once, by the first shell (/etc/profile.d/claude-worker-banner.sh): what the user must
# know before typing.
banner=/tmp/claude-worker-banner
: >"$banner"

# The worker's commits carry the author the farm was given for it.
if [ -n "${FARM_GIT_AUTHOR_NAME:-}" ]; then
  git config --global user.name "$FARM_GIT_AUTHOR_NAME"
fi
if [ -n "${FARM_GIT_AUTHOR_EMAIL:-}" ]; then
  git config --global user.email "$FARM_GIT_AUTHOR_EMAIL"
fi

# A private repository's token reaches git through a credential helper that reads it from the
# environment (/usr/local/bin/git-credential-farm), for the repository's host only, for the
# clone and every later fetch and push: never in the URL, the remote or a file.
if [ -n "${FARM_GIT_TOKEN:-}" ] && [ -n "${GIT_REPO:-}" ]; then
  origin=$(printf '%s' "$GIT_REPO" | sed -E 's#^(https?)://([^@/]*@)?([^/]+).*#\1://\3#')
  case "$origin" in
    http://*|https://*) git config --global "credential.$origin.helper" farm ;;
  esac
fi

if [ -n "${GIT_REPO:-}" ]; then
  dest="/shared/repos/$id"
  if [ -d "$dest/.git" ]; then
    echo "claude-worker: repository already present in $dest"
    workdir="$dest"
  else
    echo "claude-worker: cloning into $dest"
    clone_log=/tmp/claude-worker-clone.log
    clone_status=/tmp/claude-worker-clone.status
    # Only network transports: no ext::, no file://, no local paths, whatever the URL says.
    # Progress goes to the log as it happens (one line per update), and to a file for the
    # banner; the exit status travels through a file because sh has no pipefail.
    { GIT_ALLOW_PROTOCOL=https:http:ssh GIT_TERMINAL_PROMPT=0 \
        git clone --progress -- "$GIT_REPO" "$dest" 2>&1; echo $? >"$clone_status"; } \
      | stdbuf -oL tr '\r' '\n' | tee "$clone_log"
    if [ "$(cat "$clone_status")" = 0 ]; then
      workdir="$dest"
    else
      reason=$(grep -E '^(fatal|error|ssh):' "$clone_log" | tail -n 1)
      [ -n "$reason" ] || reason=$(grep -v '^$' "$clone_log" | tail -n 1)
      echo "claude-worker: clone failed: $reason"
      # A failed clone must not leave a worker that restarts forever or an empty folder
      # that looks like a repository: keep the terminal, say what happened. Restarting the
      # worker tries the clone again.
      rm -rf "$dest"
      {
        printf '\033[1;31mThe repository could not be cloned:\033[0m\n'
        tail -n 5 "$clone_log"
        printf 'Restart this worker to try again, or clone it by hand into %s.\n\n' "$dest"
      } >"$banner"
    fi
  fi
fi

# Claude Code asks three things on its first start: a theme, whether to use the API key it
# finds in the environment, and whether to trust the folder. The worker was made for it, with
# this key, in this folder: the answers are written into its state once, so `claude` opens
# at its prompt. Claude Code knows an approved key by its last 20 characters.
state="$HOME/.claude.json"
key_tail=""
if [ -n "${ANTHROPIC_API_KEY:-}" ]; then
  key_tail=$(printf '%s' "$ANTHROPIC_API_KEY" | tail -c 20)
fi
[ -s "$state" ] || echo '{}' >"$state"
jq --arg key "$key_tail" --arg dir "$workdir" '
    .hasCompletedOnboarding = true
    | .theme = (.theme // "dark")
    | if $key == "" then . else
        .customApiKeyResponses.approved = ((.customApiKeyResponses.approved // []) + [$key] | unique)
      end
    | .projects[$dir].hasTrustDialogAccepted = true
  ' "$state" >"$state.new" 2>/dev/null && mv -f "$state.new" "$state" || rm -f "$state.new"

# The permission mode the worker was made with, in Claude Code's own settings (what
# /permissions and shift+Tab change for a session). bypassPermissions asks once whether you
# accept it: the worker was made for it, so it is accepted here.
if [ -n "${FARM_PERMISSION_MODE:-}" ]; then
  settings="$HOME/.claude/settings.json"
  mkdir -p "$HOME/.claude"
  [ -s "$settings" ] || echo '{}' >"$settings"
  jq --arg mode "$FARM_PERMISSION_MODE" '
      .permissions.defaultMode = $mode
      | if $mode == "bypassPermissions" then .skipDangerousModePermissionPrompt = true else . end
    ' "$settings" >"$settings.new" 2>/dev/null && mv -f "$settings.new" "$settings" || rm -f "$settings.new"
fi

# A worker made with a task starts Claude Code on it in its session right away, before anyone
# opens the terminal (ttyd then attaches to the same session); after a restart it resumes
# that conversation. The task reaches the shell as a variable, never as typed text.
if [ -n "${CLAUDE_TASK:-}" ]; then
  started="$HOME/.claude-worker/task-started"
  mkdir -p "$HOME/.claude-worker"
  tmux new-session -d -s main -x 120 -y 40 -c "$workdir" -e "CLAUDE_TASK=$CLAUDE_TASK" bash -l
  if [ -e "$started" ]; then
    tmux send-keys -t main 'claude --continue' Enter
  else
    tmux send-keys -t main 'claude "$CLAUDE_TASK"' Enter
    : >"$started"
  fi
fi
unset CLAUDE_TASK

# ttyd asks for the credential the dashboard gave this worker (other workers share its
# network); the shell does not inherit it. ttyd prints its configuration, the credential
# included, as notices at start: errors and warnings only (--debug 3), so that the
# container's log, which the dashboard serves, holds no secret.
set -- --writable --port 7681 --ping-interval 20 --debug 3
if [ -n "${TTYD_CREDENTIAL:-}" ]; then
  set -- "$@" --credential "$TTYD_CREDENTIAL"
fi
unset TTYD_CREDENTIAL

echo "claude-worker: terminal ready on port 7681"
exec ttyd "$@" tmux new-session -A -s main -c "$workdir" bash -l
