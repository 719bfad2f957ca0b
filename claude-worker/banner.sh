# Sourced by the worker's login shell (/etc/profile.d): shows, once, what the entrypoint left
# to say before the first prompt (a clone that failed). Builtins only, so the tmux window is
# named after the shell from the start and no other program shows in its place.
if [ -n "${BASH_VERSION:-}" ] && [ -s /tmp/claude-worker-banner ]; then
  IFS= read -rd '' claude_worker_banner </tmp/claude-worker-banner || true
  printf '%s' "$claude_worker_banner"
  unset claude_worker_banner
  : >/tmp/claude-worker-banner
fi
