# cli_errors.sh - bad input to every subcommand: one clear line on stderr, non-zero exit,
# nothing half-written left behind.
source "$(dirname "$0")/../lib/common.sh"
cd "$TEST_TMP"

# expect_error DESC PATTERN COMMAND...: exit status != 0, exactly one stderr line that
# starts with "fennec: " and matches PATTERN, no stack trace or sanitizer report.
expect_error() {
    local desc="$1" pattern="$2"; shift 2
    local rc=0
    "$@" >out.txt 2>err.txt || rc=$?
    local lines
    lines=$(wc -l <err.txt)
    if [[ $rc -ne 0 && $rc -lt 128 && $lines -eq 1 ]] && grep -q "^fennec: " err.txt && grep -qE -- "$pattern" err.txt; then
        pass "$desc"
    else
        fail "$desc (rc=$rc, stderr: $(head -c 300 err.txt))"
    fi
}

check "help lists the subcommands" bash -c "'$FENNEC' help | grep -q make-model && '$FENNEC' help | grep -q inspect && '$FENNEC' help | grep -q quantize"
for sub in inspect make-model quantize; do
    check "$sub --help prints usage" bash -c "'$FENNEC' $sub --help | grep -q '^usage: fennec $sub'"
done
expect_error "unknown command" "unknown command 'frobnicate'" "$FENNEC" frobnicate
expect_error "inspect without a file" "FILE is required" "$FENNEC" inspect
expect_error "inspect a missing file" "nope.gguf" "$FENNEC" inspect nope.gguf
printf 'this is not a gguf file at all, just some text\n' >text.gguf
expect_error "inspect a non-GGUF file" "magic" "$FENNEC" inspect text.gguf
: >empty.gguf
expect_error "inspect an empty file" "offset" "$FENNEC" inspect empty.gguf
expect_error "inspect a directory" "." "$FENNEC" inspect .
expect_error "inspect unknown option" "unknown option" "$FENNEC" inspect --frob x.gguf

expect_error "make-model without preset" "preset is required" "$FENNEC" make-model -o m.gguf
expect_error "make-model unknown preset" "unknown preset 'gpt-17'" "$FENNEC" make-model --preset gpt-17 -o m.gguf
expect_error "make-model unknown type" "unknown type 'q3_xyz'" "$FENNEC" make-model --preset tiny-moe --type q3_xyz -o m.gguf
expect_error "make-model bad layers" "layers" "$FENNEC" make-model --preset tiny-moe --layers 0 -o m.gguf
expect_error "make-model bad layers (text)" "layers" "$FENNEC" make-model --preset tiny-moe --layers two -o m.gguf
expect_error "make-model bad seed" "seed" "$FENNEC" make-model --preset tiny-moe --seed -3 -o m.gguf
expect_error "make-model missing -o" "-o OUT.gguf is required" "$FENNEC" make-model --preset tiny-moe
expect_error "make-model option without value" "needs a value" "$FENNEC" make-model --preset
expect_error "make-model unknown argument" "unknown argument" "$FENNEC" make-model --preset tiny-moe --frob -o m.gguf
expect_error "make-model vocab not GGUF" "text.gguf" "$FENNEC" make-model --preset tiny-moe --vocab text.gguf -o m.gguf
expect_error "make-model into a missing directory" "no/such/dir" "$FENNEC" make-model --preset tiny-moe -o no/such/dir/m.gguf
check "failed make-model left no files" bash -c '! ls m.gguf* 2>/dev/null | grep -q .'

"$FENNEC" make-model --preset tiny-moe --layers 1 -o ok.gguf 2>/dev/null
expect_error "quantize too few arguments" "expected IN OUT TYPE" "$FENNEC" quantize ok.gguf
expect_error "quantize unknown type" "unknown type 'q9'" "$FENNEC" quantize ok.gguf out.gguf q9
expect_error "quantize missing input" "missing.gguf" "$FENNEC" quantize missing.gguf out.gguf q8_0
expect_error "quantize non-GGUF input" "magic" "$FENNEC" quantize text.gguf out.gguf q8_0
expect_error "quantize onto itself" "different" "$FENNEC" quantize ok.gguf ok.gguf q8_0
expect_error "quantize into a missing directory" "no/dir" "$FENNEC" quantize ok.gguf no/dir/out.gguf q8_0
"$FENNEC" quantize ok.gguf q8.gguf q8_0 2>/dev/null
expect_error "quantize an already quantized model" "already q8_0" "$FENNEC" quantize q8.gguf q4.gguf q4_k_m
check "failed quantize left no files" bash -c '! ls out.gguf* q4.gguf* no 2>/dev/null | grep -q .'

# A truncated model is refused by inspect and quantize, naming an offset.
head -c 5000 ok.gguf >trunc.gguf
expect_error "inspect a truncated model" "offset" "$FENNEC" inspect trunc.gguf
expect_error "quantize a truncated model" "offset" "$FENNEC" quantize trunc.gguf t2.gguf q8_0
check "no temporary files left" bash -c '! ls *.tmp.* 2>/dev/null | grep -q .'
finish
