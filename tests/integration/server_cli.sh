# server_cli.sh - `fennec serve` start-up: bad options, files and ports fail with one clear
# line; a model that cannot load makes the server exit 1 (after /health said 503, not 200);
# SIGINT and SIGTERM stop it cleanly.
source "$(dirname "$0")/../lib/common.sh"
cd "$TEST_TMP"
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 "$p" 2>/dev/null || true; done; rm -rf "$TEST_TMP"' EXIT

expect_error() { # DESC PATTERN COMMAND...
    local desc="$1" pattern="$2"; shift 2
    local rc=0
    timeout 60 "$@" >out.txt 2>err.txt || rc=$?
    if [[ $rc -ne 0 && $rc -lt 124 ]] && grep -q "^fennec: " err.txt && grep -qE -- "$pattern" err.txt && ! grep -q "Sanitizer" err.txt; then
        pass "$desc"
    else
        fail "$desc (rc=$rc, stderr: $(head -c 400 err.txt))"
    fi
}

MODEL=$(cached_model tiny-moe f16 1 7)
check "serve --help prints usage" bash -c "'$FENNEC' serve --help | grep -q '^usage: fennec serve'"
check "help lists serve" bash -c "'$FENNEC' help | grep -q ' serve '"
expect_error "serve without a model" "-m FILE is required" "$FENNEC" serve
expect_error "serve a missing file" "cannot read nope.gguf" "$FENNEC" serve -m nope.gguf
expect_error "serve bad port" "--port must be" "$FENNEC" serve -m "$MODEL" --port 70000
expect_error "serve bad parallel" "--parallel must be" "$FENNEC" serve -m "$MODEL" --parallel 0
expect_error "serve bad ctx" "--ctx must be" "$FENNEC" serve -m "$MODEL" --ctx ten
expect_error "serve bad max-body" "--max-body must be" "$FENNEC" serve -m "$MODEL" --max-body 10
expect_error "serve unknown option" "unknown argument '--frob'" "$FENNEC" serve -m "$MODEL" --frob
expect_error "serve option without value" "--port needs a value" "$FENNEC" serve -m "$MODEL" --port
expect_error "serve missing template file" "nope.jinja" "$FENNEC" serve -m "$MODEL" --chat-template nope.jinja
expect_error "serve unresolvable host" "cannot resolve --host" "$FENNEC" serve -m "$MODEL" --host no.such.host.invalid --port 0
printf 'not a gguf file\n' >bad.gguf
expect_error "serve a non-GGUF file: load fails, exit 1" "bad.gguf" "$FENNEC" serve -m bad.gguf --port 0
printf '{%% for x in %%}' >broken.jinja
expect_error "serve a broken template: load fails, exit 1" "chat template: line 1" "$FENNEC" serve -m "$MODEL" --port 0 --chat-template broken.jinja

# a running server: its port cannot be taken twice; SIGINT and SIGTERM stop it with status 0
"$FENNEC" serve -m "$MODEL" --port 0 >srv1.log 2>&1 &
PIDS+=($!)
for _ in $(seq 200); do grep -q "listening on" srv1.log && break; sleep 0.05; done
PORT=$(sed -n 's/.*listening on http:\/\/[^:]*:\([0-9]*\).*/\1/p' srv1.log | head -1)
check "server reports its port" test -n "$PORT"
expect_error "serve on a port in use" "cannot listen on 127.0.0.1:$PORT" "$FENNEC" serve -m "$MODEL" --port "$PORT"
for _ in $(seq 200); do [[ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$PORT/health")" == 200 ]] && break; sleep 0.05; done
check "health 200 once loaded" bash -c "curl -sf http://127.0.0.1:$PORT/health | grep -q '\"ok\"'"
check "models lists the file name" bash -c "curl -sf http://127.0.0.1:$PORT/v1/models | grep -q '\"id\":\"$(basename "$MODEL" .gguf)\"'"
check "metrics in Prometheus text" bash -c "curl -sf http://127.0.0.1:$PORT/metrics | grep -q '^fennec_model_loaded 1$'"
kill -INT "${PIDS[0]}"
rc=0; wait "${PIDS[0]}" || rc=$?
check "SIGINT stops it with status 0" test "$rc" -eq 0
check "no sanitizer report" bash -c "! grep -q Sanitizer srv1.log"

"$FENNEC" serve -m "$MODEL" --port 0 >srv2.log 2>&1 &
PIDS+=($!)
for _ in $(seq 200); do grep -q "listening on" srv2.log && break; sleep 0.05; done
kill -TERM "${PIDS[1]}"
rc=0; wait "${PIDS[1]}" || rc=$?
check "SIGTERM stops it with status 0 (even while loading)" test "$rc" -eq 0
finish
