#!/usr/bin/env bash
# tokenizer.sh - tokenizer throughput, fennec vs llama.cpp (node-llama-cpp), same vocabulary,
# same text, one thread each, in one run. The text is a few MB of real source code: this
# repository's .c/.h files and the oracle's node_modules JavaScript, concatenated (sorted,
# so the run is reproducible) up to BENCH_TOK_MB (default 4) megabytes.
# Times only encoding: fennec's --time (no loading, no printing), llama.cpp's native
# tokenize call (see tokenizer.mjs). Best of BENCH_TOK_REPEAT (default 3) runs each.
# usage: bench/tokenizer.sh [VOCAB.gguf...]   (default: the qwen2, llama-bpe, gpt-2 and
#        llama-spm test vocabularies); FENNEC=path/to/fennec (default build/fennec)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
fennec=${FENNEC:-$root/build/fennec}
shared=${FENNEC_SHARED:-$root/../shared}
mb=${BENCH_TOK_MB:-4}
repeat=${BENCH_TOK_REPEAT:-3}
[ -x "$fennec" ] || { echo "fennec binary not found at $fennec (set FENNEC)" >&2; exit 1; }
if [ $# -eq 0 ]; then
    set -- "$shared"/testdata/vocab/ggml-vocab-{qwen2,llama-bpe,gpt-2,llama-spm}.gguf
fi

tmp=$(mktemp -d /tmp/bench_tok.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
corpus="$tmp/corpus.txt"
limit=$((mb * 1000000))
{ find "$root/src" -name '*.[ch]' | LC_ALL=C sort
  find "$root/tests/oracle/node_modules" -name '*.js' -size -200k | LC_ALL=C sort; } >"$tmp/files"
while [ "$(stat -c %s "$corpus" 2>/dev/null || echo 0)" -lt "$limit" ]; do
    while read -r f; do
        cat "$f" >>"$corpus"
        [ "$(stat -c %s "$corpus")" -ge "$limit" ] && break
    done <"$tmp/files"
done
# keep only valid UTF-8 so both sides tokenize the same bytes
iconv -f UTF-8 -t UTF-8 -c "$corpus" >"$corpus.clean" && mv "$corpus.clean" "$corpus"
bytes=$(stat -c %s "$corpus")
printf 'corpus: %.2f MB of source code, best of %d runs, 1 thread\n\n' "$(echo "$bytes / 1000000" | bc -l)" "$repeat"
printf '%-28s %10s %10s %12s %12s %8s\n' vocabulary tokens "(llama)" "fennec MB/s" "llama MB/s" ratio

for vocab in "$@"; do
    line=$("$fennec" tokenize -m "$vocab" --ids --time --repeat "$repeat" --file "$corpus" 2>&1 >/dev/null)
    f_tokens=$(sed -E 's/.*-> ([0-9]+) tokens.*/\1/' <<<"$line")
    f_mbs=$(sed -E 's/.*\(([0-9.]+) MB\/s\).*/\1/' <<<"$line")
    read -r l_tokens _ l_mbs < <(node "$root/bench/tokenizer.mjs" "$vocab" "$corpus" "$repeat" 2>/dev/null)
    ratio=$(echo "$f_mbs / $l_mbs" | bc -l)
    printf '%-28s %10s %10s %12.2f %12.2f %7.1fx\n' "$(basename "$vocab" .gguf)" "$f_tokens" "$l_tokens" \
        "$f_mbs" "$l_mbs" "$ratio"
done
