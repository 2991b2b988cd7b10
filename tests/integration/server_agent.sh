# server_agent.sh - a real coding agent end to end (tests/oracle/server_agent.mjs): Qwen Code
# 0.24.4 headless against fennec serve completes a session without a protocol error; the
# request it sent is replayed and extended the way agents continue a session.
# The model: tiny-moe with the real Qwen2 vocabulary (agent prompts stay a few thousand
# tokens) and a 64K trained context (yarn x16), rendered with the Qwen3-Coder template.
source "$(dirname "$0")/../lib/common.sh"

QWEN="$ORACLE_DIR/node_modules/@qwen-code/qwen-code/cli.js"
VOCAB="${FENNEC_SHARED}/testdata/vocab/ggml-vocab-qwen2.gguf"
TEMPLATE="${FENNEC_SHARED}/testdata/templates/Qwen3-Coder.jinja"
if [[ ! -f "$QWEN" || ! -f "$VOCAB" || ! -f "$TEMPLATE" ]]; then
    [[ -n "${CI:-}" ]] && { echo "qwen-code or shared test data missing in CI: run scripts/deps.sh --test" >&2; exit 1; }
    echo "SKIP: needs tests/oracle/node_modules/@qwen-code/qwen-code (scripts/deps.sh --test) and ../shared/testdata" >&2
    exit 77
fi
PIDFILE="$TEST_TMP/server.pid"
trap 'if [[ -f "$PIDFILE" ]]; then kill -9 "$(cat "$PIDFILE")" 2>/dev/null || true; fi; rm -rf "$TEST_TMP"' EXIT

MODEL=$(cached_model tiny-moe f16 1 7 --rope-scaling yarn:16 --vocab "$VOCAB")
if node "$ORACLE_DIR/server_agent.mjs" "$MODEL" "$TEST_TMP" "$QWEN" "$TEMPLATE"; then
    pass "qwen-code session against fennec serve"
else
    fail "qwen-code session against fennec serve"
    echo "--- server log"; tail -40 "$TEST_TMP/server-agent.log"
fi
finish
