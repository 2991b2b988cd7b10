#!/usr/bin/env bash
# bench/serve-load.sh - `fennec serve` under load: 1, 4 and 8 concurrent streaming clients,
# DURATION seconds each (default 60), against the demo-shaped Qwen3-Coder-30B-A3B model
# (2 layers, Q4_K_M, random weights; made once under models/). Prints a table of aggregate
# generated tokens/s and p50/p99 time to first token and inter-token latency. Not a test.
#   FENNEC=path/to/fennec  DURATION=60  MAX_TOKENS=128  CLIENTS="1 4 8"  bash bench/serve-load.sh
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
FENNEC="${FENNEC:-build/fennec}"
DURATION="${DURATION:-60}"
MAX_TOKENS="${MAX_TOKENS:-128}"
CLIENTS="${CLIENTS:-1 4 8}"
MODEL="${MODEL:-models/demo-qwen3-coder-2l-q4_k_m.gguf}"
[[ -x "$FENNEC" ]] || { echo "no $FENNEC: build first (bash scripts/build.sh build)" >&2; exit 1; }
if [[ ! -f "$MODEL" ]]; then
    mkdir -p "$(dirname "$MODEL")"
    "$FENNEC" make-model --preset qwen3-coder-30b-a3b --layers 2 --type q4_k_m --seed 1 -o "$MODEL"
fi
LOG="$(mktemp "${TMPDIR:-/tmp}/fennec-serve-load.XXXXXX")"
"$FENNEC" serve -m "$MODEL" --model-name bench --host 127.0.0.1 --port 0 --parallel 8 --ctx 2048 --quiet >"$LOG" 2>&1 &
PID=$!
trap 'kill "$PID" 2>/dev/null || true; wait "$PID" 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 300); do grep -q "listening on" "$LOG" && break; sleep 0.1; done
PORT=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$LOG" | head -1)
[[ -n "$PORT" ]] || { cat "$LOG" >&2; exit 1; }
until curl -sf "http://127.0.0.1:$PORT/health" >/dev/null; do kill -0 "$PID" || { cat "$LOG" >&2; exit 1; }; sleep 0.2; done
echo "fennec serve on :$PORT, model $MODEL, --parallel 8, $(nproc) cores, max_tokens $MAX_TOKENS, ${DURATION}s per row"
node bench/serve-load.mjs "http://127.0.0.1:$PORT" bench "$DURATION" "$MAX_TOKENS" $CLIENTS
