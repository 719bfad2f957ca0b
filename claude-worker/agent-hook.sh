#!/bin/bash
# Claude Code runs this on each hook event (managed-settings.json lists which), with the
# event's JSON on standard input. It keeps the fields that tell the agent's state, nothing
# else (no prompt, no tool input), in one file the dashboard's watcher reads
# (claude-worker-agent-watch). It prints nothing: some events add a hook's output to the
# conversation. It never fails: a hook's error must not disturb the agent.
dir="$HOME/.claude-worker"
mkdir -p "$dir" 2>/dev/null
tmp="$dir/.agent.json.$$"
jq -c --argjson at "$(date +%s)" '{
    event: (.hook_event_name // ""),
    notification_type,
    message: ((.message // null) | if . == null then null else .[0:400] end),
    tool_name,
    last: ((.last_assistant_message // null) | if . == null then null else .[-400:] end),
    at: $at
  }' >"$tmp" 2>/dev/null && mv -f "$tmp" "$dir/agent.json"
rm -f "$tmp"
exit 0
