#!/usr/bin/env bash
# scripts/test.sh - README command 2 and CI: the whole test suite.
#  1. gcc Release build with -Werror: every unit and integration test (llama.cpp, Hugging
#     Face Jinja and OpenAI SDK oracles from npm included);
#  2. clang build with -Werror: unit tests;
#  3. AddressSanitizer + UndefinedBehaviorSanitizer build: unit and integration tests.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
JOBS=$(nproc)
start=$(date +%s)
bash scripts/deps.sh --test

echo "== gcc release build (-Werror), all tests"
bash scripts/build.sh build -DCMAKE_C_COMPILER=gcc -DCMAKE_BUILD_TYPE=Release -DFENNEC_WERROR=ON
ctest --test-dir build --output-on-failure -j "$JOBS"

echo "== clang build (-Werror), unit tests"
bash scripts/build.sh build-clang -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Release -DFENNEC_WERROR=ON
ctest --test-dir build-clang --output-on-failure -j "$JOBS" -L unit

echo "== ASan/UBSan build, unit and integration tests (not the heavy llama.cpp comparisons)"
bash scripts/build.sh build-asan -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DFENNEC_WERROR=ON -DFENNEC_SANITIZE=ON
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure -j "$JOBS" -LE heavy

echo "== all test builds passed in $(( $(date +%s) - start )) s"
