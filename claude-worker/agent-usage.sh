#!/bin/bash
# Sums what Claude Code's own transcripts (~/.claude/projects/*/*.jsonl, every conversation
# of this worker, subagents included) say each API answer used, per model, into one file the
# dashboard's watcher reads (claude-worker-agent-watch) and prices (src/agent/prices.rs).
# A message is written to a transcript once per content block, each time with its usage: it
# is counted once, by its id (only its numbers are kept while reading). Claude Code's own error messages (model `<synthetic>`) used
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
  # What a transcript gets after this moment is looked for afterwards; the moment counts once
  # the sum is in place (a sum that failed is tried again at the next look).
  touch "$stamp.next"
  # `awk 1` ends each file's last line: a line being written is never glued to the next file.
  find "$transcripts" -type f -name '*.jsonl' -exec awk 1 {} + 2>/dev/null |
    nice -n 10 jq -ncR '
      def n: if type == "number" and . >= 0 then . else 0 end;
      reduce (inputs | fromjson? | select(type == "object" and .type == "assistant") | .message
              | select(type == "object" and (.id | type) == "string" and (.usage | type) == "object"
                       and (.model | type) == "string" and .model != "<synthetic>")
              | .usage as $u
              | ($u.cache_creation.ephemeral_1h_input_tokens? | n) as $hour
              | [.id, .model, ($u.input_tokens | n), ($u.output_tokens | n),
                 ($u.cache_read_input_tokens | n),
                 ([($u.cache_creation_input_tokens | n) - $hour, 0] | max), $hour])
        as $m ({}; .[$m[0]] = $m[1:])
      | reduce .[] as $e ({}; .[$e[0]] |= {
          input: ((.input // 0) + $e[1]),
          output: ((.output // 0) + $e[2]),
          cache_read: ((.cache_read // 0) + $e[3]),
          cache_write_5m: ((.cache_write_5m // 0) + $e[4]),
          cache_write_1h: ((.cache_write_1h // 0) + $e[5])
        })' >"$tmp" && mv -f "$tmp" "$dir/usage.json" && mv -f "$stamp.next" "$stamp"
  rm -f "$tmp" "$stamp.next"
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
