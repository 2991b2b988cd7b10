# make_model_llamacpp.sh - every make-model preset and type writes a file that llama.cpp
# (node-llama-cpp@3.21.1) loads and generates from; inspect reports it correctly; the same
# seed gives the same bytes.
# A long llama.cpp comparison: not repeated in the sanitizer build.
# labels: heavy
source "$(dirname "$0")/../lib/common.sh"
need_oracles
cd "$TEST_TMP"

# json_field FILE EXPR: evaluates a JS expression over the parsed JSON in `j`.
json_field() { node -e "const j=JSON.parse(require('fs').readFileSync('$1','utf8')); console.log($2)"; }

# try_model DESC FILE ARCH N_EXPERT: inspect + llama.cpp load and greedy generation.
try_model() {
    local desc="$1" file="$2" arch="$3" n_expert="$4"
    if ! "$FENNEC" inspect --json "$file" >inspect.json 2>err.txt; then
        fail "$desc: inspect failed: $(cat err.txt)"
        return
    fi
    local got
    got=$(json_field inspect.json "j.hparams.architecture + ' ' + j.hparams.n_expert")
    if [[ "$got" != "$arch $n_expert" ]]; then
        fail "$desc: inspect says '$got', expected '$arch $n_expert'"
        return
    fi
    if ! llama_eval generate "$file" "1,2,3,4,5" 8 >gen.json 2>err.txt; then
        fail "$desc: llama.cpp failed: $(tail -3 err.txt)"
        return
    fi
    local n
    n=$(json_field gen.json "j.tokens.length")
    if [[ "$n" == 8 ]]; then pass "$desc: llama.cpp loads it and generates"; else fail "$desc: llama.cpp generated $n tokens"; fi
}

for preset in tiny-moe tiny-qwen3 tiny-llama tiny-mixtral; do
    case $preset in
        tiny-moe) arch=qwen3moe; ne=16 ;; tiny-qwen3) arch=qwen3; ne=0 ;;
        tiny-llama) arch=llama; ne=0 ;; tiny-mixtral) arch=llama; ne=8 ;;
    esac
    for type in f16 bf16 q8_0 q4_k_m; do
        "$FENNEC" make-model --preset $preset --type $type --seed 7 -o m.gguf 2>/dev/null
        try_model "$preset $type" m.gguf $arch $ne
    done
done

# Real widths, one layer each (the full-size tests of the engine live elsewhere).
"$FENNEC" make-model --preset qwen3-coder-30b-a3b --layers 1 --type q4_k_m -o coder.gguf 2>/dev/null
try_model "qwen3-coder-30b-a3b 1 layer q4_k_m" coder.gguf qwen3moe 128
"$FENNEC" make-model --preset qwen3-dense --layers 1 --type q8_0 -o dense.gguf 2>/dev/null
try_model "qwen3-dense 1 layer q8_0" dense.gguf qwen3 0
"$FENNEC" make-model --preset llama-dense --layers 1 --type f16 --tied -o llama.gguf 2>/dev/null
try_model "llama-dense 1 layer f16 tied" llama.gguf llama 0

# Inspect of the Qwen3-Coder shape: hyper-parameters and active bytes per token.
"$FENNEC" inspect --json coder.gguf >coder.json
check "coder: 32/4 heads of 128, 8 of 128 experts, FFN 768" \
    test "$(json_field coder.json "[j.hparams.n_embd, j.hparams.n_head, j.hparams.n_head_kv, j.hparams.head_dim_k, j.hparams.n_expert_used, j.hparams.n_ff_exp].join(' ')")" = "2048 32 4 128 8 768"
check "coder: active bytes per token well below total" \
    test "$(json_field coder.json "j.totals.active_bytes_per_token < j.totals.weight_bytes / 4")" = true
check "coder: Q4_K_M recipe puts output.weight in q6_K" \
    test "$(json_field coder.json "j.tensors.find(t => t.name == 'output.weight').type")" = q6_K
check "coder: router stays f32" \
    test "$(json_field coder.json "j.tensors.find(t => t.name == 'blk.0.ffn_gate_inp.weight').type")" = f32

# A tokenizer copied from a real vocabulary.
VOCAB="$FENNEC_SHARED/testdata/vocab/ggml-vocab-qwen2.gguf"
if [[ -f "$VOCAB" ]]; then
    "$FENNEC" make-model --preset tiny-moe --vocab "$VOCAB" --type q8_0 -o qv.gguf 2>/dev/null
    try_model "tiny-moe with the Qwen2 vocabulary" qv.gguf qwen3moe 16
    llama_eval tokenize qv.gguf "def main():\n    print('héllo')" >a.json 2>/dev/null
    llama_eval tokenize "$VOCAB" "def main():\n    print('héllo')" >b.json 2>/dev/null
    check "copied vocabulary tokenizes like the original" cmp -s a.json b.json
else
    fail "shared vocabulary $VOCAB is missing"
fi

# Determinism: same seed -> same bytes; another seed -> other weights.
"$FENNEC" make-model --preset tiny-moe --type q4_k_m --seed 3 -o s1.gguf 2>/dev/null
"$FENNEC" make-model --preset tiny-moe --type q4_k_m --seed 3 -o s2.gguf 2>/dev/null
"$FENNEC" make-model --preset tiny-moe --type q4_k_m --seed 4 -o s3.gguf 2>/dev/null
check "same seed, same bytes" cmp -s s1.gguf s2.gguf
check "different seed, different bytes" bash -c '! cmp -s s1.gguf s3.gguf'
finish
