# server_battery.sh - bad input while a stream runs (tests/oracle/server_battery.mjs): truncated
# and invalid JSON, wrong types, huge numbers, invalid UTF-8, 10 MB bodies, empty messages,
# unknown roles, orphan tool results, broken HTTP, slowloris clients, a client that never
# reads; the stream must finish with the same greedy text as when it runs alone.
source "$(dirname "$0")/../lib/common.sh"

if [[ ! -d "$ORACLE_DIR/node_modules/openai" ]]; then
    [[ -n "${CI:-}" ]] && { echo "npm oracles missing in CI: run scripts/deps.sh --test" >&2; exit 1; }
    echo "SKIP: npm oracles not installed (bash scripts/deps.sh --test)" >&2
    exit 77
fi
PIDFILE="$TEST_TMP/server.pid"
trap 'if [[ -f "$PIDFILE" ]]; then kill -9 "$(cat "$PIDFILE")" 2>/dev/null || true; fi; rm -rf "$TEST_TMP"' EXIT

MODEL=$(cached_model tiny-moe f16 1 7 --rope-scaling yarn:16)
if node "$ORACLE_DIR/server_battery.mjs" "$MODEL" "$TEST_TMP"; then
    pass "bad-input battery against fennec serve"
else
    fail "bad-input battery against fennec serve"
    echo "--- server log"; tail -60 "$TEST_TMP/server-battery.log"
fi
finish
