/* cmd_serve.c - `fennec serve`: parses the options, starts the HTTP server (which loads the
 * model in the background) and runs until SIGINT/SIGTERM or a failed load. */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "base/error.h"
#include "cli/cli.h"
#include "cli/cli_args.h"
#include "cli/cli_text.h"
#include "server/server.h"

static void usage(FILE *out) {
    fprintf(out,
            "usage: fennec serve -m FILE [options]\n\n"
            "Serves the model over an OpenAI-compatible HTTP API: POST /v1/chat/completions,\n"
            "POST /v1/completions, GET /v1/models, GET /health, GET /metrics. Point a coding tool\n"
            "at it with OPENAI_BASE_URL=http://HOST:PORT/v1 (any API key).\n\n"
            "  -m, --model FILE       GGUF model (required)\n"
            "  --host ADDR            address to listen on (default 127.0.0.1)\n"
            "  --port N               port (default 8080; 0 = any free port)\n"
            "  --parallel N           requests decoded together (default 4)\n"
            "  --ctx N                context tokens per request (default min(4096, trained))\n"
            "  -t, --threads N        compute threads (default: all cores)\n"
            "  --model-name NAME      model id in the API (default: the file name without .gguf)\n"
            "  --chat-template FILE   Jinja chat template replacing the model's own\n"
            "  --max-tokens N         cap on tokens generated per request (default: none)\n"
            "  --queue N              requests that may wait for a free sequence (default 64; 429 beyond)\n"
            "  --max-body BYTES       request body limit (default 16777216; 413 beyond)\n"
            "  --timeout SECONDS      idle connection timeout (default 30)\n"
            "  --quiet                no per-request log lines\n");
}

int cmd_serve(int argc, char **argv) {
    server_config cfg = {.port = 8080, .parallel = 4, .queue_limit = 64, .max_body = 16u << 20, .timeout_s = 30,
                         .log_requests = true};
    const char *template_path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (cli_is_help(a)) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--quiet")) {
            cfg.log_requests = false;
            continue;
        }
        static const char *const opts[] = {"-m", "--model", "--host", "--port", "--parallel", "--ctx", "-t", "--threads",
                                           "--model-name", "--chat-template", "--max-tokens", "--queue", "--max-body",
                                           "--timeout"};
        bool known = false;
        for (size_t k = 0; k < sizeof opts / sizeof *opts; k++) known |= !strcmp(a, opts[k]);
        if (!known) return cli_fail("serve: unknown argument '%s' (see --help)", a);
        if (!val) return cli_fail("serve: %s needs a value", a);
        i++;
        long v = 0;
        if (!strcmp(a, "-m") || !strcmp(a, "--model")) cfg.model_path = val;
        else if (!strcmp(a, "--host")) cfg.host = val;
        else if (!strcmp(a, "--model-name")) {
            if (!*val) return cli_fail("serve: --model-name must not be empty");
            cfg.model_name = val;
        } else if (!strcmp(a, "--chat-template")) template_path = val;
        else if (!strcmp(a, "--port")) {
            if (!cli_parse_int(val, 0, 65535, &v)) return cli_fail("serve: --port must be 0..65535");
            cfg.port = (int)v;
        } else if (!strcmp(a, "--parallel")) {
            if (!cli_parse_int(val, 1, 256, &v)) return cli_fail("serve: --parallel must be 1..256");
            cfg.parallel = (int)v;
        } else if (!strcmp(a, "--ctx")) {
            if (!cli_parse_int(val, 16, 1 << 24, &v)) return cli_fail("serve: --ctx must be 16..16777216");
            cfg.ctx = (int)v;
        } else if (!strcmp(a, "-t") || !strcmp(a, "--threads")) {
            if (!cli_parse_int(val, 1, 1024, &v)) return cli_fail("serve: --threads must be 1..1024");
            cfg.threads = (int)v;
        } else if (!strcmp(a, "--max-tokens")) {
            if (!cli_parse_int(val, 1, 1 << 24, &v)) return cli_fail("serve: --max-tokens must be 1..16777216");
            cfg.max_tokens = (int)v;
        } else if (!strcmp(a, "--queue")) {
            if (!cli_parse_int(val, 0, 1 << 20, &v)) return cli_fail("serve: --queue must be 0..1048576");
            cfg.queue_limit = (int)v;
        } else if (!strcmp(a, "--max-body")) {
            if (!cli_parse_int(val, 1024, 1L << 32, &v)) return cli_fail("serve: --max-body must be 1024..4294967296 bytes");
            cfg.max_body = (size_t)v;
        } else if (!strcmp(a, "--timeout")) {
            if (!cli_parse_int(val, 1, 3600, &v)) return cli_fail("serve: --timeout must be 1..3600 seconds");
            cfg.timeout_s = (int)v;
        }
    }
    if (!cfg.model_path) return cli_fail("serve: -m FILE is required");
    if (access(cfg.model_path, R_OK)) return cli_fail("serve: cannot read %s", cfg.model_path);
    char *tmpl = NULL;
    if (template_path) {
        size_t len;
        tmpl = cli_read_file(template_path, &len);
        if (!tmpl) return cli_fail("serve: %s", fn_errmsg());
        if (strlen(tmpl) != len) {
            free(tmpl);
            return cli_fail("serve: %s: the template contains a NUL byte", template_path);
        }
        cfg.chat_template = tmpl;
    }

    /* Signals are taken synchronously by this thread; every thread started from here on
     * inherits the mask. A client that hangs up must not kill the process. */
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);

    server *s = server_start(&cfg);
    free(tmpl);
    if (!s) return cli_fail("serve: %s", fn_errmsg());
    fprintf(stderr, "fennec serve: listening on http://%s:%d (model loading; GET /health says when it is ready)\n",
            cfg.host ? cfg.host : "127.0.0.1", server_port(s));
    int rc = 0;
    for (;;) {
        struct timespec wait = {0, 200 * 1000 * 1000};
        int sig = sigtimedwait(&set, NULL, &wait);
        if (sig == SIGINT || sig == SIGTERM) {
            fprintf(stderr, "fennec serve: %s, stopping\n", sig == SIGINT ? "interrupted" : "terminated");
            break;
        }
        char msg[512];
        if (server_get_state(s, msg, sizeof msg) == SERVER_FAILED) {
            cli_fail("serve: %s", msg);
            rc = 1;
            break;
        }
    }
    server_stop(s);
    return rc;
}
