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

# cached_model PRESET TYPE LAYERS SEED [EXTRA make-model args...]: prints the path of a
# synthetic model, generating it once. The cache key includes a hash of the sources that
# decide the bytes (synthesis, recipes, quantizers), so a code change regenerates it.
cached_model() {
    local preset="$1" type="$2" layers="$3" seed="$4"; shift 4
    local dir="${FENNEC_CACHE:-$HOME/.cache/fennec}/models"
    mkdir -p "$dir"
    local src_hash
    src_hash=$(cat "$FENNEC_SRC"/src/model/synth*.c "$FENNEC_SRC"/src/model/quant_recipe.c \
                   "$FENNEC_SRC"/src/model/hparams.c "$FENNEC_SRC"/src/tensor/quant*.c \
                   "$FENNEC_SRC"/src/tensor/half.c "$FENNEC_SRC"/src/gguf/gguf_writer.c 2>/dev/null |
               sha256sum | cut -c1-12)
    local extra="" arg
    for arg in "$@"; do # files (e.g. --vocab) by content, so every checkout shares one entry
        if [[ -f "$arg" ]]; then extra+="_$(sha256sum "$arg" | cut -c1-12)"; else extra+="_$arg"; fi
    done
    extra=$(echo "${extra#_}" | tr -c 'a-zA-Z0-9.\n' '_')
    local f="$dir/$preset-$type-l$layers-s$seed${extra:+-$extra}-$src_hash.gguf"
    if [[ ! -f "$f" ]]; then
        "$FENNEC" make-model --preset "$preset" --type "$type" --layers "$layers" --seed "$seed" "$@" -o "$f" >&2 2>/dev/null ||
            { echo "make-model $preset $type failed" >&2; return 1; }
        # the same model made by older sources is stale now (and can weigh gigabytes)
        local old
        for old in "$dir/$preset-$type-l$layers-s$seed${extra:+-$extra}-"????????????.gguf; do
            [[ "$old" != "$f" && -f "$old" ]] && rm -f "$old"
        done
    fi
    echo "$f"
}
