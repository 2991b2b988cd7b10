#!/usr/bin/env bash
# tokenizer_cli.sh - `fennec tokenize`: output formats, flags, and one-line errors.
set -uo pipefail

: "${FENNEC:?}" "${FENNEC_SHARED:?}"
vocab="$FENNEC_SHARED/testdata/vocab"
qwen="$vocab/ggml-vocab-qwen2.gguf"
llama="$vocab/ggml-vocab-llama-bpe.gguf"
spm="$vocab/ggml-vocab-llama-spm.gguf"
[ -f "$qwen" ] && [ -f "$llama" ] && [ -f "$spm" ] || { echo "SKIP: vocabularies missing"; exit 77; }

tmp=$(mktemp -d /tmp/tok_cli.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
fails=0
check() { # name, expected, actual
    if [ "$2" == "$3" ]; then echo "ok   $1"; else echo "FAIL $1: expected [$2] got [$3]"; fails=$((fails + 1)); fi
}
# an error must be exactly one line "fennec: ..." on stderr, nothing on stdout, exit 1
check_error() { # name, command...
    local name=$1; shift
    "$@" >"$tmp/out" 2>"$tmp/err"; local rc=$?
    local lines; lines=$(wc -l <"$tmp/err")
    if [ $rc -eq 1 ] && [ "$lines" -eq 1 ] && grep -q '^fennec: ' "$tmp/err" && [ ! -s "$tmp/out" ]; then
        echo "ok   $name: $(cat "$tmp/err")"
    else
        echo "FAIL $name: rc=$rc, stderr=[$(cat "$tmp/err")], stdout=[$(head -c 200 "$tmp/out")]"
        fails=$((fails + 1))
    fi
}

check "ids" "9707 1879" "$("$FENNEC" tokenize -m "$qwen" --ids "Hello world")"
check "default is ids" "9707 1879" "$("$FENNEC" tokenize -m "$qwen" "Hello world")"
check "no bos by default" "9906 1917" "$("$FENNEC" tokenize -m "$llama" "Hello world")"
check "--bos" "128000 9906 1917" "$("$FENNEC" tokenize -m "$llama" --bos "Hello world")"
check "specials are text" "27 91 318 4906 91 29" "$("$FENNEC" tokenize -m "$qwen" "<|im_start|>")"
check "--special" "151644 872 198" "$("$FENNEC" tokenize -m "$qwen" --special $'<|im_start|>user\n')"
check "spm space prefix" "15043 3186" "$("$FENNEC" tokenize -m "$spm" "Hello world")"
check "empty text" "" "$("$FENNEC" tokenize -m "$qwen" "")"
printf 'Hello world' >"$tmp/in.txt"
check "--file" "9707 1879" "$("$FENNEC" tokenize -m "$qwen" --file "$tmp/in.txt")"
check "--file -" "9707 1879" "$("$FENNEC" tokenize -m "$qwen" --file - <"$tmp/in.txt")"
check "one line" "1" "$("$FENNEC" tokenize -m "$qwen" $'a\nb\nc' | wc -l)"
check "--pieces" $'  9707 "Hello"\n  1879 " world"\n   198 "\\n"' \
    "$("$FENNEC" tokenize -m "$qwen" --pieces $'Hello world\n')"
check "--help" "0" "$("$FENNEC" tokenize --help >/dev/null; echo $?)"
check "invalid utf-8 is replaced" "$("$FENNEC" tokenize -m "$qwen" $'a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdb')" \
    "$("$FENNEC" tokenize -m "$qwen" $'a\xff\xe4\xb8b')"

check_error "no model" "$FENNEC" tokenize "text"
check_error "no text" "$FENNEC" tokenize -m "$qwen"
check_error "text and file" "$FENNEC" tokenize -m "$qwen" --file "$tmp/in.txt" "text"
check_error "missing model file" "$FENNEC" tokenize -m "$tmp/nope.gguf" "text"
check_error "missing text file" "$FENNEC" tokenize -m "$qwen" --file "$tmp/nope.txt"
check_error "unknown option" "$FENNEC" tokenize -m "$qwen" --frobnicate "text"
printf 'GGUF\3\0\0\0garbage' >"$tmp/bad.gguf"
check_error "corrupt model" "$FENNEC" tokenize -m "$tmp/bad.gguf" "text"

echo "$fails failed"
[ $fails -eq 0 ]
