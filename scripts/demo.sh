#!/usr/bin/env bash
# scripts/demo.sh - README command 1: installs what is missing, builds Fennec, makes the
# built-in demo model (Qwen3-Coder-30B-A3B's shape, 2 of its 48 layers, random weights,
# Q4_K_M), starts `fennec serve` in the background, sends one streaming chat completion with
# a tool defined (plain curl), prints the text as it streams, then usage and speed, stops
# the server and says how to point a coding tool at it.
# FENNEC_PORT=N picks the port (default 8080; a free one if that is taken); FENNEC_BUILD_DIR
# the build directory (default build).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
B="${FENNEC_BUILD_DIR:-build}"
bash scripts/deps.sh
bash scripts/build.sh "$B" -DFENNEC_TESTS=OFF
mkdir -p models
MODEL=models/demo-qwen3-coder-2l-q4_k_m.gguf
NAME=qwen3-coder-demo
if [[ ! -f "$MODEL" ]]; then
    echo "making the demo model $MODEL ..." >&2
    "$B"/fennec make-model --preset qwen3-coder-30b-a3b --layers 2 --type q4_k_m --seed 1 -o "$MODEL"
fi

LOG="$(mktemp "${TMPDIR:-/tmp}/fennec-demo.XXXXXX")"
SERVER_PID=""
cleanup() {
    if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then
        kill "$SERVER_PID" 2>/dev/null || true
        wait "$SERVER_PID" 2>/dev/null || true
    fi
    rm -f "$LOG"
}
trap cleanup EXIT

start_server() { # PORT
    "$B"/fennec serve -m "$MODEL" --model-name "$NAME" --host 127.0.0.1 --port "$1" --parallel 4 --ctx 8192 >"$LOG" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 100); do
        grep -q "listening on" "$LOG" && return 0
        kill -0 "$SERVER_PID" 2>/dev/null || return 1
        sleep 0.1
    done
    return 1
}
if ! start_server "${FENNEC_PORT:-8080}"; then
    echo "port ${FENNEC_PORT:-8080} is not available ($(tail -1 "$LOG")); using a free one" >&2
    start_server 0 || { cat "$LOG" >&2; exit 1; }
fi
PORT=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' "$LOG" | head -1)
BASE="http://127.0.0.1:$PORT"
printf 'fennec serve: %s (pid %s), loading the model' "$BASE" "$SERVER_PID"
until [[ "$(curl -s -o /dev/null -w '%{http_code}' "$BASE/health")" == 200 ]]; do
    kill -0 "$SERVER_PID" 2>/dev/null || { echo; cat "$LOG" >&2; exit 1; }
    printf '.'
    sleep 0.2
done
echo " ready"
echo

REQUEST=$(cat <<EOF
{"model": "$NAME", "stream": true, "stream_options": {"include_usage": true},
 "max_tokens": 96, "temperature": 0.7, "seed": 42,
 "messages": [
   {"role": "system", "content": "You are a careful coding assistant."},
   {"role": "user", "content": "Read src/main.c and tell me what it prints."}],
 "tools": [{"type": "function", "function": {
   "name": "read_file", "description": "Read a file from the workspace.",
   "parameters": {"type": "object", "properties": {"path": {"type": "string", "description": "file path"}},
                  "required": ["path"]}}}]}
EOF
)
echo "POST $BASE/v1/chat/completions  (stream, one tool: read_file)"
echo "----- streamed answer (random weights: the text is noise, the protocol is real) -----"
# Print each SSE delta as it arrives; then usage and speed. Perl's core JSON::PP decodes.
curl -sN "$BASE/v1/chat/completions" -H 'Content-Type: application/json' -H 'Authorization: Bearer any-key' -d "$REQUEST" |
perl -MJSON::PP -MTime::HiRes=time -e '
    $| = 1;
    my ($t0, $t_first, $t_last, $usage, $finish, $n_chunks) = (time(), 0, 0, undef, "", 0);
    my %calls;
    while (my $line = <STDIN>) {
        next unless $line =~ /^data: (.*)/;
        my $data = $1;
        last if $data eq "[DONE]";
        my $j = decode_json($data);
        die "server error: $j->{error}{message}\n" if $j->{error};
        $usage = $j->{usage} if $j->{usage};
        for my $c (@{ $j->{choices} }) {
            my $d = $c->{delta} || {};
            my $text = ($d->{content} // "") . ($d->{reasoning_content} // "");
            for my $tc (@{ $d->{tool_calls} || [] }) {
                if (defined $tc->{id}) { print "\n[tool call $tc->{function}{name}] "; }
                $text .= $tc->{function}{arguments} // "";
            }
            if (length $text) {
                $t_first ||= time();
                $t_last = time();
                $n_chunks++;
                binmode STDOUT, ":utf8";
                print $text;
            }
            $finish = $c->{finish_reason} if $c->{finish_reason};
        }
    }
    print "\n----- end of stream -----\n";
    die "no usage chunk\n" unless $usage;
    my $gen = $usage->{completion_tokens};
    printf "finish_reason: %s\n", $finish;
    printf "usage: prompt %d tokens (%d cached), completion %d tokens, total %d\n",
        $usage->{prompt_tokens}, $usage->{prompt_tokens_details}{cached_tokens}, $gen, $usage->{total_tokens};
    printf "time to first token: %.3f s; generation: %.1f tokens/s\n", $t_first - $t0,
        ($gen > 1 && $t_last > $t_first) ? ($gen - 1) / ($t_last - $t_first) : 0;
'
echo
echo "Server log:"
sed 's/^/  /' "$LOG"
kill "$SERVER_PID" 2>/dev/null || true
wait "$SERVER_PID" 2>/dev/null || true
SERVER_PID=""

cat <<EOF

To use it from a coding tool (Cline, Kilo Code, Qwen Code, opencode, Copilot BYOM, ...):
  $B/fennec serve -m $MODEL --model-name $NAME --port 8080
  OPENAI_BASE_URL=http://127.0.0.1:8080/v1   model: $NAME   API key: anything
  e.g. OPENAI_BASE_URL=http://127.0.0.1:8080/v1 OPENAI_API_KEY=x qwen --auth-type openai -m $NAME -p "hello"
With a real model: $B/fennec serve -m Qwen3-Coder-30B-A3B-Instruct-Q4_K_M.gguf --parallel 4 --ctx 32768
EOF
