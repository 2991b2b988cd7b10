# run_cli.sh - `fennec run`, `bench` and `perplexity` on a tiny model: they work, report
# speed and memory, stop cleanly on Ctrl-C, and refuse bad input with one clear line.
source "$(dirname "$0")/../lib/common.sh"
cd "$TEST_TMP"
M=$(cached_model tiny-moe q8_0 2 1)

"$FENNEC" run -m "$M" -p "def main():" -n 12 --temp 0 -t 2 >out.txt 2>err.txt
check "run completes a prompt" test -s out.txt
check "run reports prompt and generation speed" grep -q "generation: 12 tokens" err.txt
check "run reports memory" grep -q "memory: resident" err.txt

"$FENNEC" run -m "$M" -p "hello there" -n 8 --temp 0 -t 2 --ids-out a.txt >/dev/null 2>&1
"$FENNEC" run -m "$M" -p "hello there" -n 8 --temp 0 -t 1 --ids-out b.txt >/dev/null 2>&1
check "greedy run is deterministic across thread counts" cmp -s a.txt b.txt
"$FENNEC" run -m "$M" -p "hello there" -n 8 --temp 1 --seed 5 -t 2 --ids-out c.txt >/dev/null 2>&1
"$FENNEC" run -m "$M" -p "hello there" -n 8 --temp 1 --seed 5 -t 2 --ids-out d.txt >/dev/null 2>&1
check "seeded sampling is reproducible" cmp -s c.txt d.txt

expect_error() {
    local desc="$1" pattern="$2"; shift 2
    local rc=0
    "$@" >/dev/null 2>err.txt || rc=$?
    if [[ $rc -ne 0 && $rc -lt 128 && $(wc -l <err.txt) -eq 1 ]] && grep -qE -- "$pattern" err.txt; then pass "$desc"
    else fail "$desc (rc=$rc: $(head -c 300 err.txt))"; fi
}
LONG=$(printf 'word %.0s' $(seq 200))
expect_error "prompt longer than the context" "--truncate" "$FENNEC" run -m "$M" -p "$LONG" --ctx 32 -n 4
check "--truncate keeps the end of a long prompt" bash -c "'$FENNEC' run -m '$M' -p '$LONG' --ctx 32 -n 4 --truncate -t 2 2>&1 | grep -q 'prompt truncated'"
expect_error "negative temperature" "temperature" "$FENNEC" run -m "$M" -p hi --temp -1
expect_error "top-p of zero" "top_p" "$FENNEC" run -m "$M" -p hi --top-p 0
expect_error "min-p above one" "min_p" "$FENNEC" run -m "$M" -p hi --min-p 2
expect_error "negative top-k" "top-k" "$FENNEC" run -m "$M" -p hi --top-k -3
expect_error "absurd presence penalty" "presence_penalty" "$FENNEC" run -m "$M" -p hi --presence-penalty 50
expect_error "non-numeric -n" "-n" "$FENNEC" run -m "$M" -p hi -n lots
expect_error "no prompt" "exactly one of" "$FENNEC" run -m "$M"
expect_error "token id out of range" "outside the vocabulary" "$FENNEC" run -m "$M" --ids 1,2,99999999
expect_error "missing model" "nope.gguf" "$FENNEC" run -m nope.gguf -p hi
expect_error "vocabulary-only file is not a model" "missing tensor 'token_embd.weight'" "$FENNEC" run -m "$FENNEC_SHARED/testdata/vocab/ggml-vocab-qwen2.gguf" -p hi

# Ctrl-C stops cleanly, with the statistics printed.
"$FENNEC" run -m "$M" -p "count" -n 1000000 --ctx 4096 --ignore-eos -t 2 >/dev/null 2>int.txt &
pid=$!
sleep 2
kill -INT $pid
rc=0
wait $pid || rc=$?
check "Ctrl-C stops the run cleanly (exit 0)" test $rc -eq 0
check "an interrupted run says so" grep -q "stopped: interrupted" int.txt

"$FENNEC" bench -m "$M" -p 32 -n 8 -r 1 -t 2 --json >bench.json
check "bench --json has pp and tg speeds" bash -c "node -e 'const j=require(\"./bench.json\"); process.exit(j.pp_tokens_per_s > 0 && j.tg_tokens_per_s > 0 ? 0 : 1)'"

printf 'The quick brown fox jumps over the lazy dog. def f(x):\n    return x * 2\n' >text.txt
"$FENNEC" perplexity -m "$M" -f text.txt --ctx 16 -t 2 --top1-out top1.txt >ppl.txt 2>/dev/null
check "perplexity prints PPL" grep -qE "^PPL = [0-9.]+$" ppl.txt
n_tok=$("$FENNEC" tokenize -m "$M" --ids --file text.txt | wc -w)
check "--top1-out has one line per evaluated position ($n_tok tokens)" test "$(wc -l <top1.txt)" -eq "$n_tok"
finish
