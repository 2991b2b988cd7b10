#!/usr/bin/env bash
# bench_kernels.sh - builds bench/kernels.c against libfennec_core.a of a build directory
# and runs it with the given arguments (see bench/kernels.c), e.g.
#   BUILD=build-mm bench/bench_kernels.sh --types q4_K,q6_K --threads 1,2
# FENNEC_CPU=avx2 caps the level the same way it does for fennec.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${BUILD:-build}
CC=${CC:-cc}
cmake --build "$BUILD" --target fennec_core >/dev/null
"$CC" -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -Isrc bench/kernels.c "$BUILD/libfennec_core.a" \
    -lpthread -lm -o "$BUILD/bench_kernels"
exec "$BUILD/bench_kernels" "$@"
