#!/bin/bash
# Claude Code runs this on each hook event (managed-settings.json lists which), with the
# event's JSON on standard input. It keeps the fields that tell the agent's state, nothing
# else (no prompt, no tool input but the question Claude asks the user), in one file the
# dashboard's watcher reads (claude-worker-agent-watch). When a turn ends it has the usage of
# Claude Code's transcripts summed again (claude-worker-agent-usage), in the background: a
# hook's time is the agent's time. It prints nothing: some events add a hook's output to the
# conversation. It never fails: a hook's error must not disturb the agent.
dir="$HOME/.claude-worker"
mkdir -p "$dir" 2>/dev/null
tmp="$dir/.agent.json.$$"
event=$(jq -c --argjson at "$(date +%s)" '
  def cut(n): if type == "string" then .[0:n] else null end;
  {
    event: (.hook_event_name // ""),
    notification_type,
    message: (.message | cut(400)),
    tool_name,
    question: (if .tool_name == "AskUserQuestion" then ((.tool_input.questions[0].question)? // null | cut(400)) else null end),
    error: (.error | cut(100)),
    last: ((.last_assistant_message // null) | if type == "string" then .[-400:] else null end),
    at: $at
  }' 2>/dev/null)
if [ -n "$event" ]; then
  printf '%s\n' "$event" >"$tmp" && mv -f "$tmp" "$dir/agent.json"
fi
rm -f "$tmp"
case "$event" in
  *'"event":"Stop"'* | *'"event":"StopFailure"'* | *'"event":"SessionEnd"'*)
    setsid -f /usr/local/bin/claude-worker-agent-usage >/dev/null 2>&1 </dev/null
    ;;
esac
exit 0
