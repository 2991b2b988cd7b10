#!/usr/bin/env bash
# tokenizer_vs_llamacpp.sh - `fennec tokenize --ids` against llama.cpp (node-llama-cpp) for
# every pre-tokenizer fennec knows: the shared test vocabularies as they are, plus the qwen2
# and llama-bpe vocabularies rewritten with each tokenizer.ggml.pre (by test_tok_pretok),
# on the corpus in tests/data/tok (C, Python, JS, Rust, CJK and emoji, white space runs,
# numbers, prose in many scripts, markdown). Prints "N passed, M failed".
set -euo pipefail

: "${FENNEC:?}" "${FENNEC_SRC:?}" "${FENNEC_BUILD:?}" "${FENNEC_SHARED:?}"
oracle="$FENNEC_SRC/tests/oracle"
if ! command -v node >/dev/null || [ ! -d "$oracle/node_modules/node-llama-cpp" ]; then
    echo "SKIP: node or node-llama-cpp not available"; exit 77
fi
if [ ! -x "$FENNEC_BUILD/test_tok_pretok" ]; then
    echo "SKIP: $FENNEC_BUILD/test_tok_pretok not built (FENNEC_TESTS=OFF?)"; exit 77
fi
shopt -s nullglob
shared=("$FENNEC_SHARED"/testdata/vocab/ggml-vocab-*.gguf)
if [ ${#shared[@]} -eq 0 ]; then echo "SKIP: no vocabularies in $FENNEC_SHARED/testdata/vocab"; exit 77; fi

tmp=$(mktemp -d /tmp/tok_vs_llama.XXXXXX)
trap 'rm -rf "$tmp"' EXIT

FENNEC_TOK_VOCAB_DIR="$tmp" "$FENNEC_BUILD/test_tok_pretok" >/dev/null 2>"$tmp/writer.log" || {
    cat "$tmp/writer.log" >&2; echo "FAIL: could not write the vocabulary variants" >&2; exit 1; }

cd "$oracle"
node tokenize_llama.mjs --fennec "$FENNEC" --corpus "$FENNEC_SRC/tests/data/tok" \
    "${shared[@]}" "$tmp"/*.gguf 2> >(grep -v '^\[node-llama-cpp\]' >&2)
