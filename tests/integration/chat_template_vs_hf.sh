# chat_template_vs_hf.sh - every real chat template in shared/testdata/templates rendered for
# every conversation in tests/data/chat by `fennec chat-template` and by Hugging Face's
# @huggingface/jinja (tests/oracle/render_hf.mjs): the texts must be byte-identical, or both
# renders must fail (a template that rejects an input must be rejected by both).
source "$(dirname "$0")/../lib/common.sh"

if [[ ! -d "$ORACLE_DIR/node_modules/@huggingface/jinja" ]]; then
    if [[ -n "${CI:-}" ]]; then
        echo "@huggingface/jinja missing in CI: run scripts/deps.sh --test" >&2
        exit 1
    fi
    echo "SKIP: @huggingface/jinja not installed (bash scripts/deps.sh --test)" >&2
    exit 77
fi

TEMPLATES="${FENNEC_SHARED:?}/testdata/templates"
CONVS="$FENNEC_SRC/tests/data/chat"
shopt -s nullglob
templates=("$TEMPLATES"/*.jinja)
convs=("$CONVS"/*.json)
if [[ ${#templates[@]} -eq 0 || ${#convs[@]} -eq 0 ]]; then
    fail "no templates in $TEMPLATES or no conversations in $CONVS"
    finish
fi

tokens=(--bos-token "<|bos|>" --eos-token "<|eos|>")
n_both_failed=0
for t in "${templates[@]}"; do
    # One node process renders every conversation for this template.
    ref="$TEST_TMP/hf"
    rm -rf "$ref" && mkdir -p "$ref"
    if ! node "$ORACLE_DIR/render_hf.mjs" "$t" "${convs[@]}" "${tokens[@]}" --out-dir "$ref" 2>"$TEST_TMP/node.err"; then
        fail "$(basename "$t"): the oracle did not run: $(head -c 300 "$TEST_TMP/node.err")"
        continue
    fi
    for c in "${convs[@]}"; do
        case_name="$(basename "$c" .json)"
        name="$(basename "$t" .jinja) x $case_name"
        frc=0
        "$FENNEC" chat-template --template "$t" --messages "$c" "${tokens[@]}" \
            >"$TEST_TMP/fennec.txt" 2>"$TEST_TMP/fennec.err" || frc=$?
        hf_txt="$ref/$case_name.txt" hf_err="$ref/$case_name.err"
        if [[ $frc -ge 128 ]]; then
            fail "$name: fennec crashed (status $frc): $(head -c 300 "$TEST_TMP/fennec.err")"
        elif [[ ! -f "$hf_txt" && ! -f "$hf_err" ]]; then
            fail "$name: no reference output"
        elif [[ $frc -ne 0 && -f "$hf_err" ]]; then
            n_both_failed=$((n_both_failed + 1))
            pass "$name (both reject: $(head -c 120 "$hf_err" | tr '\n' ' '))"
        elif [[ $frc -ne 0 ]]; then
            fail "$name: only fennec failed: $(head -c 300 "$TEST_TMP/fennec.err")"
        elif [[ -f "$hf_err" ]]; then
            fail "$name: only Hugging Face failed: $(head -c 300 "$hf_err")"
        elif cmp -s "$TEST_TMP/fennec.txt" "$hf_txt"; then
            pass "$name ($(wc -c <"$hf_txt") bytes)"
        else
            fail "$name: output differs (--- Hugging Face, +++ fennec)"
            diff -u "$hf_txt" "$TEST_TMP/fennec.txt" | head -n 60 || true
        fi
    done
done
echo "${#templates[@]} templates x ${#convs[@]} conversations; $n_both_failed cases rejected by both"
finish
