#!/usr/bin/env bash
# scripts/build.sh [DIR] [cmake options...] - configures and builds Fennec (Release by default).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
DIR="${1:-build}"
shift || true
cmake -S "$ROOT" -B "$ROOT/$DIR" -G Ninja "$@" >/dev/null
cmake --build "$ROOT/$DIR" -j "$(nproc)"
