#!/usr/bin/env bash
# scripts/deps.sh - installs what Fennec needs on Debian 12, only what is missing.
#   bash scripts/deps.sh          build dependencies (compiler, cmake, libraries)
#   bash scripts/deps.sh --test   plus test tools: clang (fuzz/sanitizers), cmocka, node + npm
#                                 oracles (node-llama-cpp, @huggingface/jinja, openai)
# Runs apt-get as root (or through sudo). npm packages are cached under
# ${FENNEC_CACHE:-~/.cache/fennec} so repeated runs and fresh clones reuse them.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WANT_TEST=0
[[ "${1:-}" == "--test" ]] && WANT_TEST=1

PKGS=(build-essential cmake ninja-build pkg-config libjansson-dev libpcre2-dev libmicrohttpd-dev
      libsqlite3-dev libcurl4-openssl-dev curl perl)
if (( WANT_TEST )); then
    PKGS+=(libcmocka-dev clang libclang-rt-14-dev nodejs npm curl)
fi

missing=()
for p in "${PKGS[@]}"; do
    if [[ "$p" == npm ]] && command -v npm >/dev/null 2>&1; then continue; fi
    if [[ "$p" == nodejs ]] && command -v node >/dev/null 2>&1; then continue; fi
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if (( ${#missing[@]} )); then
    echo "deps: installing ${missing[*]}" >&2
    SUDO=""
    if [[ $(id -u) -ne 0 ]]; then SUDO="sudo"; fi
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if (( WANT_TEST )); then
    node_major=$(node -p 'process.versions.node.split(".")[0]')
    if (( node_major < 20 )); then
        echo "deps: node $(node --version) is too old for node-llama-cpp (needs >= 20)" >&2
        exit 1
    fi
    # npm oracles: installed once per package-lock into the cache, linked into the tree.
    ORACLE="$ROOT/tests/oracle"
    CACHE="${FENNEC_CACHE:-$HOME/.cache/fennec}"
    hash=$(sha256sum "$ORACLE/package-lock.json" | cut -c1-16)
    dest="$CACHE/oracle-$hash"
    if [[ ! -f "$dest/.complete" ]]; then
        echo "deps: installing npm test oracles into $dest" >&2
        rm -rf "$dest"
        mkdir -p "$dest"
        cp "$ORACLE/package.json" "$ORACLE/package-lock.json" "$dest/"
        # `npm install` with the lock file, not `npm ci`: some pinned packages have optional
        # builds for other platforms that the registry does not serve, so their entries are
        # missing from the lock and `npm ci` refuses it; `npm install` keeps the locked versions.
        (cd "$dest" && npm install --no-audit --no-fund --loglevel=error >/dev/null)
        touch "$dest/.complete"
    fi
    if [[ "$(readlink "$ORACLE/node_modules" 2>/dev/null)" != "$dest/node_modules" ]]; then
        rm -rf "$ORACLE/node_modules"
        ln -s "$dest/node_modules" "$ORACLE/node_modules"
    fi
fi
