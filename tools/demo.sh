#!/usr/bin/env bash
# The main job on the embedded defaults: an MQTT broker (wasmig's embedded aedes), two
# edge agents, and a job that is started on one, live-migrated to the other and back
# while it runs, and followed to its end. Everything listens on loopback and stops when
# the script ends.
#
# Usage: tools/demo.sh        (after npm ci; uses the built CLI in dist/)
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
wasmig=(node "$here/bin/wasmig.js")
work=${WASMIG_DEMO_DIR:-$(mktemp -d)}
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"; }
trap cleanup EXIT

# The broker picks a free port itself (port 0) and says which: a port found free first
# could be taken by another process before the broker binds it.
"${wasmig[@]}" broker --port 0 > "$work/broker.log" 2>&1 & pids+=($!)
WASMIG_BROKER=
for _ in $(seq 300); do
  WASMIG_BROKER=$(sed -n 's/^wasmig broker: listening on \(mqtt:[^ ]*\).*/\1/p' "$work/broker.log" 2>/dev/null)
  [ -n "$WASMIG_BROKER" ] && break
  kill -0 "${pids[0]}" 2>/dev/null || break
  sleep 0.1
done
if [ -z "$WASMIG_BROKER" ]; then echo "the broker did not start:" >&2; cat "$work/broker.log" >&2; exit 1; fi
export WASMIG_BROKER
# The job holds after its last step until the script opens its gate (a file in a
# directory both agents give it), so that a slow or busy machine cannot end it before
# its second move.
mkdir -p "$work/gates"
"${wasmig[@]}" agent --name edge-a --dir "$work/gates::/gates" > "$work/a.log" 2>&1 & pids+=($!)
"${wasmig[@]}" agent --name edge-b --dir "$work/gates::/gates" > "$work/b.log" 2>&1 & pids+=($!)
sleep 2

echo "== starting a job on edge-a (broker $WASMIG_BROKER)"
# writer.wasm fills 16 MiB, then keeps rewriting 4 MiB/s of it and prints a line every
# 10 ms; its lines depend only on how many it printed, so any loss shows.
job=$("${wasmig[@]}" run --on edge-a --detach "$here/test/programs/writer.wasm" mem=16 rate=4096 steps=2000 gate=/gates/open)
echo "job $job"
sleep 2
echo "== live-migrating $job to edge-b while it writes its memory"
"${wasmig[@]}" migrate "$job" --to edge-b
sleep 2
echo "== and back to edge-a (only what changed since it left goes back)"
"${wasmig[@]}" migrate "$job" --to edge-a
"${wasmig[@]}" ps
touch "$work/gates/open"
echo "== the job's output, from the start, wherever it ran (last lines)"
"${wasmig[@]}" attach "$job" > "$work/out.txt"
tail -n 3 "$work/out.txt"
echo "($(grep -c '^step ' "$work/out.txt") step lines, in order: $(awk '/^step /{ if ($2 != ++n) bad=1 } END { print bad ? "NO" : "yes" }' "$work/out.txt"))"
