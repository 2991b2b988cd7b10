#!/usr/bin/env bash
# bench/vs-llamacpp.sh - Fennec vs llama.cpp on the same GGUF files, same threads, in one
# run: prompt processing of 512 tokens and generation of 128 tokens, one engine after the
# other (never both at once: two spinning thread pools on 2 cores distort each other),
# repeated, medians; plus the memory-bandwidth roofline for generation.
#   bash bench/vs-llamacpp.sh [THREADS] [REPS]
# Models (synthetic, built-in vocabulary, cached in ~/.cache/fennec/bench): the 4-layer
# Qwen3-Coder-30B-A3B-shaped qwen3moe in Q4_K_M and Q8_0, and a dense 4-layer qwen3 in Q4_K_M.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
THREADS="${1:-2}"
REPS="${2:-3}"
bash scripts/deps.sh --test >/dev/null
bash scripts/build.sh build-bench -DCMAKE_BUILD_TYPE=Release -DFENNEC_TESTS=OFF >/dev/null
FENNEC="$ROOT/build-bench/fennec"
CACHE="${FENNEC_CACHE:-$HOME/.cache/fennec}/bench"
mkdir -p "$CACHE"
cc -O2 -mavx2 -pthread -o "$CACHE/membw" bench/membw.c
cc -O2 -o "$CACHE/llama_native" bench/llama_native.c -ldl
LLAMA_BINS="$ROOT/tests/oracle/node_modules/@node-llama-cpp/linux-x64/bins/linux-x64"
BW=$("$CACHE/membw" "$THREADS" 2048 2>/dev/null)

model() { # preset type -> path (generated once)
    local f="$CACHE/$1-l4-$2.gguf"
    [[ -f "$f" ]] || "$FENNEC" make-model --preset "$1" --layers 4 --type "$2" --seed 1 -o "$f" >&2
    echo "$f"
}
rows=("qwen3-coder-30b-a3b q4_k_m" "qwen3-coder-30b-a3b q8_0" "qwen3-dense q4_k_m")
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), DRAM read bandwidth ($THREADS threads) $BW GB/s"
echo "fennec: $(git -C "$ROOT" rev-parse --short HEAD), llama.cpp: node-llama-cpp@3.21.1 prebuilt CPU build driven natively (bench/llama_native.c)"
printf "%-28s %9s %9s %7s | %9s %9s %7s | %10s %8s %8s\n" model "pp512 F" "pp512 L" ratio "tg128 F" "tg128 L" ratio "roofline" "F/roof" "L/roof"
for row in "${rows[@]}"; do
    set -- $row
    m=$(model "$1" "$2")
    active=$("$FENNEC" inspect --json "$m" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log(JSON.parse(s).totals.active_bytes_per_token))')
    fpp=(); ftg=(); lpp=(); ltg=()
    for r in $(seq "$REPS"); do
        j=$("$FENNEC" bench -m "$m" -p 512 -n 128 -t "$THREADS" -r 1 --json)
        fpp+=($(node -p "($j).pp_tokens_per_s")); ftg+=($(node -p "($j).tg_tokens_per_s"))
        j=$("$CACHE/llama_native" "$LLAMA_BINS" "$m" 512 128 "$THREADS" 1 2>"$CACHE/llama_native.log")
        lpp+=($(node -p "($j).pp_tokens_per_s")); ltg+=($(node -p "($j).tg_tokens_per_s"))
    done
    med() { printf "%s\n" "$@" | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
    FPP=$(med "${fpp[@]}"); FTG=$(med "${ftg[@]}"); LPP=$(med "${lpp[@]}"); LTG=$(med "${ltg[@]}")
    ROOF=$(node -p "$BW * 1e9 / $active")
    node -e "
      const [name, fpp, lpp, ftg, ltg, roof] = ['$1 $2', $FPP, $LPP, $FTG, $LTG, $ROOF];
      const f = (x, d=1) => x.toFixed(d);
      console.log(name.padEnd(28), f(fpp).padStart(9), f(lpp).padStart(9), (f(fpp/lpp,2)+'x').padStart(7), '|',
                  f(ftg).padStart(9), f(ltg).padStart(9), (f(ftg/ltg,2)+'x').padStart(7), '|',
                  f(roof).padStart(10), (f(100*ftg/roof,0)+'%').padStart(8), (f(100*ltg/roof,0)+'%').padStart(8));"
done
echo "fennec kernels: $("$FENNEC" bench -m "$m" -p 1 -n 1 -t 1 -r 1 --json | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>process.stdout.write(JSON.parse(s).kernel))'); llama.cpp CPU backend: $(sed -n 's/.*loaded CPU backend from .*\/\(libggml-cpu-[a-z0-9]*\.so\).*/\1/p' "$CACHE/llama_native.log" | head -1)"
echo "(tokens/s; F = fennec, L = llama.cpp; roofline = DRAM bandwidth / active weight bytes per token; medians of $REPS runs)"
