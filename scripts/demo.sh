#!/usr/bin/env bash
# scripts/demo.sh - README command 1: installs what is missing, builds Fennec, makes the
# built-in demo model (Qwen3-Coder-30B-A3B's shape, 2 layers, random weights, Q4_K_M) and
# inspects it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
bash scripts/deps.sh
bash scripts/build.sh build -DFENNEC_TESTS=OFF
mkdir -p models
MODEL=models/demo-qwen3-coder-2l-q4_k_m.gguf
if [[ ! -f "$MODEL" ]]; then
    echo "making the demo model $MODEL ..." >&2
    build/fennec make-model --preset qwen3-coder-30b-a3b --layers 2 --type q4_k_m --seed 1 -o "$MODEL"
fi
build/fennec inspect "$MODEL"
