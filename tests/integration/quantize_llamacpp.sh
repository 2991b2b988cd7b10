# quantize_llamacpp.sh - `fennec quantize` output loads in llama.cpp and predicts like the
# unquantized model; our dequantization agrees with llama.cpp's reading of the same bytes.
# A long llama.cpp comparison: not repeated in the sanitizer build.
# labels: heavy
source "$(dirname "$0")/../lib/common.sh"
need_oracles
cd "$TEST_TMP"
json_field() { node -e "const j=JSON.parse(require('fs').readFileSync('$1','utf8')); console.log($2)"; }
# kl_below FILE_A FILE_B LIMIT: mean KL(A||B) < LIMIT; prints the figures.
compare() { node "$ORACLE_DIR/compare_probs.mjs" "$1" "$2"; }

IDS=$(seq -s, 10 3 200)   # 64 token ids, all inside the built-in vocabulary

for preset in tiny-qwen3 tiny-moe; do
    "$FENNEC" make-model --preset $preset --type f32 --seed 11 -o $preset-f32.gguf 2>/dev/null
    llama_eval probs $preset-f32.gguf "$IDS" >$preset-f32.json
    # Upper bounds on mean KL(f32 || quantized) per position, in nats.
    for spec in f16:0.002 bf16:0.01 q8_0:0.01 q6_k:0.05 q4_k_m:0.4 q4_0:0.6; do
        type=${spec%%:*} limit=${spec#*:}
        if ! "$FENNEC" quantize $preset-f32.gguf $preset-$type.gguf $type 2>err.txt; then
            fail "$preset: quantize to $type: $(cat err.txt)"
            continue
        fi
        if ! llama_eval probs $preset-$type.gguf "$IDS" >$preset-$type.json 2>err.txt; then
            fail "$preset $type: llama.cpp could not run it: $(tail -2 err.txt)"
            continue
        fi
        r=$(compare $preset-f32.json $preset-$type.json)
        kl=$(node -p "($r).mean_kl")
        if node -e "process.exit(($r).mean_kl < $limit ? 0 : 1)"; then
            pass "$preset $type: llama.cpp predicts like f32 (mean KL $kl < $limit)"
        else
            fail "$preset $type: mean KL vs f32 $kl >= $limit ($r)"
        fi
        # Our dequantization of the same bytes, written as f32, must be what llama.cpp
        # computes from them: closer to the quantized model than the original f32 is (a
        # layout bug gives garbage, far away). Not identical: llama.cpp quantizes the
        # activations for quantized weights, not for f32 ones. The bit-exact check of every
        # dequantizer against ggml's own code is in test_tensor_format.
        if [[ $type != f16 && $type != bf16 ]]; then
            "$FENNEC" quantize --allow-requantize $preset-$type.gguf $preset-$type-deq.gguf f32 2>/dev/null
            llama_eval probs $preset-$type-deq.gguf "$IDS" >$preset-$type-deq.json
            r2=$(compare $preset-$type.json $preset-$type-deq.json)
            kl2=$(node -p "($r2).mean_kl")
            kl1=$(node -p "($(compare $preset-$type.json $preset-f32.json)).mean_kl")
            if node -e "process.exit($kl2 < $kl1 && $kl2 < 0.05 ? 0 : 1)"; then
                pass "$preset $type: fennec's dequantization matches llama.cpp's (KL $kl2 vs $kl1 for the original)"
            else
                fail "$preset $type: dequantized model differs from llama.cpp's reading (KL $kl2, original $kl1)"
            fi
        fi
    done
done

# F16 and BF16 inputs convert too, and the result loads and predicts like the F32 route.
for src in f16 bf16; do
    "$FENNEC" quantize tiny-qwen3-f32.gguf from-$src.gguf $src 2>/dev/null
    if "$FENNEC" quantize from-$src.gguf from-$src-q4_k_m.gguf q4_k_m 2>err.txt &&
       llama_eval probs from-$src-q4_k_m.gguf "$IDS" >from-$src.json 2>/dev/null; then
        r=$(compare tiny-qwen3-f32.json from-$src.json)
        if node -e "process.exit(($r).mean_kl < 0.15 ? 0 : 1)"; then pass "q4_k_m from a $src input loads in llama.cpp ($r)"
        else fail "q4_k_m from a $src input: $r"; fi
    else
        fail "q4_k_m from a $src input: $(cat err.txt)"
    fi
done

# The Q4_K_M recipe: with 2 layers llama.cpp gives the last block's attn_v and ffn_down Q6_K.
"$FENNEC" inspect --json tiny-qwen3-q4_k_m.gguf >q.json
types=$(json_field q.json "['blk.0.attn_v.weight','blk.1.attn_v.weight','blk.0.ffn_down.weight','blk.1.ffn_down.weight','blk.0.attn_q.weight','output.weight','token_embd.weight','blk.0.attn_norm.weight'].map(n => j.tensors.find(t => t.name == n).type).join(' ')")
check "q4_k_m recipe per tensor ($types)" test "$types" = "q4_K q6_K q4_K q6_K q4_K q6_K q4_K f32"
check "quantized file keeps the tokenizer" test "$(json_field q.json "j.metadata.filter(m => m.key.startsWith('tokenizer.')).length")" -ge 5
finish
