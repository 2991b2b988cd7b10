# common.sh - shared helpers for integration tests (sourced, not run).
# Tests get FENNEC (binary), FENNEC_SRC, FENNEC_BUILD, FENNEC_SHARED from CTest.
set -euo pipefail
: "${FENNEC:?run through ctest}" "${FENNEC_SRC:?}" "${FENNEC_BUILD:?}"
ORACLE_DIR="$FENNEC_SRC/tests/oracle"
TEST_TMP="$(mktemp -d "${TMPDIR:-/tmp}/fennec-test.XXXXXX")"
trap 'rm -rf "$TEST_TMP"' EXIT
N_PASS=0
N_FAIL=0

pass() { N_PASS=$((N_PASS + 1)); echo "ok   - $*"; }
fail() { N_FAIL=$((N_FAIL + 1)); echo "FAIL - $*"; }

# check DESCRIPTION COMMAND...: passes if the command succeeds.
check() {
    local desc="$1"; shift
    if "$@"; then pass "$desc"; else fail "$desc"; fi
}

# Prints the closing line CTest logs and exits non-zero if anything failed.
finish() {
    echo "$N_PASS passed, $N_FAIL failed"
    [[ $N_FAIL -eq 0 ]]
}

# The npm oracles are installed by scripts/deps.sh --test. Outside CI a missing install
# skips the test (exit 77, reported as skipped by CTest, never as passed); in CI it fails.
need_oracles() {
    if [[ ! -d "$ORACLE_DIR/node_modules/node-llama-cpp" ]]; then
        if [[ -n "${CI:-}" ]]; then
            echo "npm oracles missing in CI: run scripts/deps.sh --test" >&2
            exit 1
        fi
        echo "SKIP: npm oracles not installed (bash scripts/deps.sh --test)" >&2
        exit 77
    fi
}

# llama.cpp through node-llama-cpp: llama_eval CMD MODEL ARGS...
llama_eval() { node "$ORACLE_DIR/llama_eval.mjs" "$@"; }

# Directory for generated models, kept between runs of the same build.
model_cache() {
    local d="$FENNEC_BUILD/test-models"
    mkdir -p "$d"
    echo "$d"
}
