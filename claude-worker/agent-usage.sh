#!/bin/bash
# Sums what Claude Code's own transcripts (~/.claude/projects/*/*.jsonl, every conversation
# of this worker, subagents included) say each API answer used, per model, into one file the
# dashboard's watcher reads (claude-worker-agent-watch) and prices (src/agent/prices.rs).
# A message is written to a transcript once per content block, each time with its usage: it
# is counted once, by its id. Claude Code's own error messages (model `<synthetic>`) used
# nothing. The file is replaced whole. Claude Code writes a turn's last message to its
# transcript a moment after its Stop hook, so this looks for changed transcripts once a second
# for a few seconds and sums only when one changed.
set -u
dir="$HOME/.claude-worker"
mkdir -p "$dir"
# One run at a time, and one more waiting for it: a turn that ends during a run gets a run of
# its own after it, more turns ending then share that one.
exec 8>"$dir/.usage.queue"
flock -n 8 || exit 0
exec 9>"$dir/.usage.lock"
flock 9
flock -u 8
tmp="$dir/.usage.json.$$"
transcripts="$HOME/.claude/projects"
stamp="$dir/.usage.stamp"
sum() {
  # What a transcript gets after this moment is looked for afterwards.
  touch "$stamp"
  find "$transcripts" -type f -name '*.jsonl' -exec cat {} + 2>/dev/null |
    nice -n 10 jq -ncR '
      def n: if type == "number" and . >= 0 then . else 0 end;
      reduce (inputs | fromjson? | select(type == "object" and .type == "assistant") | .message
              | select(type == "object" and (.id | type) == "string" and (.usage | type) == "object"
                       and (.model | type) == "string" and .model != "<synthetic>"))
        as $m ({}; .[$m.id] = {model: $m.model, u: $m.usage})
      | reduce .[] as $e ({}; .[$e.model] |= {
          input: ((.input // 0) + ($e.u.input_tokens | n)),
          output: ((.output // 0) + ($e.u.output_tokens | n)),
          cache_read: ((.cache_read // 0) + ($e.u.cache_read_input_tokens | n)),
          cache_write_5m: ((.cache_write_5m // 0)
            + ([($e.u.cache_creation_input_tokens | n) - ($e.u.cache_creation.ephemeral_1h_input_tokens? | n), 0] | max)),
          cache_write_1h: ((.cache_write_1h // 0) + ($e.u.cache_creation.ephemeral_1h_input_tokens? | n))
        })' >"$tmp" && mv -f "$tmp" "$dir/usage.json"
  rm -f "$tmp"
}
changed() {
  [ ! -e "$stamp" ] || [ -n "$(find "$transcripts" -type f -name '*.jsonl' -newer "$stamp" -print -quit 2>/dev/null)" ]
}
# At most two sums a run (a large transcript takes a second or two to read): the turn's, and
# its last message's if that came after.
sums=0
for _ in 1 2 3 4 5 6; do
  if changed; then
    sum
    sums=$((sums + 1))
    [ "$sums" = 2 ] && break
  fi
  sleep 1
done
