# server_openai.sh - fennec serve driven by the official OpenAI SDK (tests/oracle/server_openai.mjs):
# chat and text completions, streaming, usage, tools and a tool-call round trip, logprobs,
# stop strings, seeds, errors; and the SDK reading the server's recorded tool-call streams.
source "$(dirname "$0")/../lib/common.sh"

if [[ ! -d "$ORACLE_DIR/node_modules/openai" ]]; then
    [[ -n "${CI:-}" ]] && { echo "openai SDK missing in CI: run scripts/deps.sh --test" >&2; exit 1; }
    echo "SKIP: npm oracles not installed (bash scripts/deps.sh --test)" >&2
    exit 77
fi
PIDFILE="$TEST_TMP/server.pid"
trap 'if [[ -f "$PIDFILE" ]]; then kill -9 "$(cat "$PIDFILE")" 2>/dev/null || true; fi; rm -rf "$TEST_TMP"' EXIT

# trained context 65536 (yarn x16), so agents' max_tokens 32000 is clamped, not refused
MODEL=$(cached_model tiny-moe f16 1 7 --rope-scaling yarn:16)
DUMP=""
if [[ -x "$FENNEC_BUILD/test_server_api" ]]; then
    DUMP="$TEST_TMP/sse"
    mkdir -p "$DUMP"
    FENNEC_SSE_DUMP_DIR="$DUMP" "$FENNEC_BUILD/test_server_api" >/dev/null 2>&1 || DUMP=""
fi
if node "$ORACLE_DIR/server_openai.mjs" "$MODEL" "$TEST_TMP" $DUMP; then
    pass "OpenAI SDK against fennec serve"
else
    fail "OpenAI SDK against fennec serve"
    echo "--- server log"; tail -40 "$TEST_TMP/server-openai.log"
fi
finish
