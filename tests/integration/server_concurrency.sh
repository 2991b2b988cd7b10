# server_concurrency.sh - continuous batching seen from clients (tests/oracle/server_concurrency.mjs):
# 8 concurrent greedy streams equal the same requests run one at a time; disconnecting
# clients (streaming or not) free their slots and queued requests then run; 429 when full.
source "$(dirname "$0")/../lib/common.sh"

if [[ ! -d "$ORACLE_DIR/node_modules/openai" ]]; then
    [[ -n "${CI:-}" ]] && { echo "npm oracles missing in CI: run scripts/deps.sh --test" >&2; exit 1; }
    echo "SKIP: npm oracles not installed (bash scripts/deps.sh --test)" >&2
    exit 77
fi
PIDFILE="$TEST_TMP/server.pid"
trap 'if [[ -f "$PIDFILE" ]]; then kill -9 "$(cat "$PIDFILE")" 2>/dev/null || true; fi; rm -rf "$TEST_TMP"' EXIT

MODEL=$(cached_model tiny-moe f16 1 7 --rope-scaling yarn:16)
if node "$ORACLE_DIR/server_concurrency.mjs" "$MODEL" "$TEST_TMP"; then
    pass "concurrent clients against fennec serve"
else
    fail "concurrent clients against fennec serve"
    for f in "$TEST_TMP"/server-*.log; do echo "--- $f"; tail -40 "$f"; done
fi
finish
