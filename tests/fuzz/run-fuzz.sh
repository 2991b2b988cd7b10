#!/usr/bin/env bash
# run-fuzz.sh - build one libFuzzer target in build-fuzz/ and run it for a fixed time.
# Usage: tests/fuzz/run-fuzz.sh TARGET SECONDS [extra libFuzzer flags...]
#   TARGET   fuzz target name, e.g. fuzz_gguf (source tests/fuzz/TARGET.c)
#   SECONDS  total fuzzing time
# The corpus grows in build-fuzz/corpus-TARGET/ (seeded from tests/fuzz/corpus/NAME/ where
# NAME is TARGET without "fuzz_"); crashes land in build-fuzz/artifacts-TARGET/. Runs one
# process on one core at low priority. Exit status is libFuzzer's (non-zero on a finding).
# Environment: FUZZ_BUILD (build dir), FUZZ_MAX_LEN (default 65536).
set -euo pipefail

if [ $# -lt 2 ]; then
    echo "usage: $0 TARGET SECONDS [libFuzzer flags...]" >&2
    exit 2
fi
target=$1
seconds=$2
shift 2

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
build=${FUZZ_BUILD:-$root/build-fuzz}
name=${target#fuzz_}
seeds=$root/tests/fuzz/corpus/$name
corpus=$build/corpus-$target
artifacts=$build/artifacts-$target
dict=$root/tests/fuzz/$name.dict

# The library must carry coverage instrumentation too, or libFuzzer only sees the harness.
cmake -S "$root" -B "$build" -G Ninja -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_C_FLAGS=-fsanitize=fuzzer-no-link -DFENNEC_FUZZ=ON -DFENNEC_TESTS=OFF >/dev/null
cmake --build "$build" --target "$target"

mkdir -p "$corpus" "$artifacts"
dirs=("$corpus")
[ -d "$seeds" ] && dirs+=("$seeds")
flags=(-max_total_time="$seconds" -max_len="${FUZZ_MAX_LEN:-65536}" -timeout=10
       -malloc_limit_mb=256 -rss_limit_mb=2048 -print_final_stats=1
       -artifact_prefix="$artifacts/")
[ -f "$dict" ] && flags+=(-dict="$dict")

# New inputs are written to the first directory only, so the seeds stay untouched.
exec nice -n 10 "$build/$target" "${flags[@]}" "$@" "${dirs[@]}"
