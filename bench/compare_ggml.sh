#!/usr/bin/env bash
# compare_ggml.sh - Fennec's matmul kernels against llama.cpp's ggml CPU backend on the same
# quantized bytes (bench/ggml_compare.c): builds ggml (CPU backend, -march=native, static)
# from a llama.cpp checkout, links the comparison against it and libfennec_core.a, runs it.
#   LLAMA_CPP=~/src/llama.cpp BUILD=build bench/compare_ggml.sh --types q4_K,q8_0 --threads 1,2
set -euo pipefail
cd "$(dirname "$0")/.."
: "${LLAMA_CPP:?set LLAMA_CPP to a llama.cpp source checkout}"
BUILD=${BUILD:-build}
GG=${GGML_BUILD:-$BUILD/ggml-for-compare}
CC=${CC:-cc}
if [[ ! -f "$GG/build.ninja" ]]; then
    cmake -S "$LLAMA_CPP" -B "$GG" -G Ninja -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON \
        -DBUILD_SHARED_LIBS=OFF -DGGML_OPENMP=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF \
        -DLLAMA_BUILD_SERVER=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_CURL=OFF >/dev/null
fi
cmake --build "$GG" --target ggml ggml-cpu ggml-base >/dev/null
cmake --build "$BUILD" --target fennec_core >/dev/null
"$CC" -O2 -std=c11 -D_GNU_SOURCE -Isrc -I"$LLAMA_CPP/ggml/include" bench/ggml_compare.c \
    "$BUILD/libfennec_core.a" "$GG/ggml/src/libggml.a" "$GG/ggml/src/libggml-cpu.a" \
    "$GG/ggml/src/libggml-base.a" -lstdc++ -lpthread -lm -o "$BUILD/ggml_compare"
exec "$BUILD/ggml_compare" "$@"
