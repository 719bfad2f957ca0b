#!/bin/bash
# The dashboard runs this in each running worker (docker exec, as the worker's user) and reads
# what it prints; the worker has no way to reach the dashboard. One message per change:
#   hook <the last hook event, one JSON line>        (claude-worker-agent-hook wrote it)
#   usage <tokens per model, one JSON line>          (claude-worker-agent-usage wrote it)
#   command <the tmux pane's foreground program>     ("" when no session is open yet)
#   screen <n>, then the pane's n visible lines
# Hook events are looked for twice a second (bash builtins only, no process started). The
# pane, which costs a tmux call, twice a second while Claude Code runs a turn (a dialog must
# show on the dashboard within a second of appearing on screen, and Claude Code's own
# notification of it comes seconds later), right after the pane changed, every two seconds
# otherwise (a shell, Claude Code idle at its prompt), and whenever a hook fired. Only changes
# are printed. It ends when its standard input closes (the dashboard went away).
set -u
dir="$HOME/.claude-worker"
mkdir -p "$dir"
last_hook="" last_usage="" last_command="-" last_screen="-" n=0 moved=0
while :; do
  hook=""
  [ -r "$dir/agent.json" ] && IFS= read -r -d '' hook <"$dir/agent.json"
  hook="${hook//$'\n'/ }"
  fresh=0
  if [ "$hook" != "$last_hook" ]; then
    printf 'hook %s\n' "$hook"
    last_hook="$hook"
    fresh=1
  fi
  usage=""
  [ -r "$dir/usage.json" ] && IFS= read -r -d '' usage <"$dir/usage.json"
  usage="${usage//$'\n'/ }"
  if [ "$usage" != "$last_usage" ]; then
    printf 'usage %s\n' "$usage"
    last_usage="$usage"
  fi
  n=$((n + 1))
  # Twice a second while a turn runs (a dialog can only appear then): the screen says `esc to
  # interrupt` or shows a dialog, or the last hook is one of a running turn.
  look=0
  case "$last_command" in
    claude*)
      case "$last_screen" in
        # A usage limit waits for its reset (hours) under "Esc to cancel": not a turn.
        *"Continuing automatically at"*) ;;
        *"esc to interrupt"* | *"Esc to cancel"*) look=1 ;;
      esac
      # And right after Claude Code's screen changed: a turn that just ended (an answer, an
      # error, a limit) reads as such at the next look.
      [ "$moved" = 1 ] && look=1
      case "$hook" in
        *'"event":"UserPromptSubmit"'* | *'"event":"PreToolUse"'* | *'"event":"PostToolUse"'* | *'"event":"PermissionRequest"'*) look=1 ;;
      esac
      ;;
  esac
  [ "$fresh" = 1 ] || [ $((n % 4)) = 1 ] && look=1
  moved=0
  if [ "$look" = 1 ]; then
    pane=$(tmux display-message -p -t main '#{pane_current_command}' \; capture-pane -p -t main 2>/dev/null)
    command="${pane%%$'\n'*}"
    screen="${pane#*$'\n'}"
    [ "$pane" = "$command" ] && screen=""
    if [ "$command" != "$last_command" ]; then
      printf 'command %s\n' "$command"
      last_command="$command"
    fi
    if [ "$screen" != "$last_screen" ]; then
      lines=()
      [ -n "$screen" ] && mapfile -t lines <<<"$screen"
      printf 'screen %d\n' "${#lines[@]}"
      printf '%s\n' "${lines[@]}"
      last_screen="$screen"
      moved=1
    fi
  fi
  # The pause: standard input stays open and silent while the dashboard reads this; when the
  # dashboard goes, it closes, and the watcher ends instead of staying behind in the worker.
  read -r -t 0.5 _
  [ $? = 1 ] && exit 0
done
