/* test_scheduler.c - the continuous-batching engine: concurrent greedy requests give the
 * same tokens as the same requests run alone; prefix reuse; cancellation; a full queue. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/error.h"
#include "engine/llm.h"
#include "engine/scheduler.h"
#include "model/synth.h"
#include "tok/tokenizer.h"

static char model_path[256];

static int setup(void **state) {
    (void)state;
    snprintf(model_path, sizeof model_path, "/tmp/fennec-test-sched-%d.gguf", (int)getpid());
    synth_options o = {.preset = "tiny-moe", .type = "f32", .seed = 3, .out_path = model_path};
    if (synth_write_model(&o)) {
        fprintf(stderr, "%s\n", fn_errmsg());
        return -1;
    }
    return 0;
}

static int teardown(void **state) {
    (void)state;
    unlink(model_path);
    return 0;
}

typedef struct {
    llm *l;
    tokenizer *tok;
    engine *e;
} fixture;

static void open_fixture(fixture *f, int slots, int queue) {
    llm_options o = {.model_path = model_path, .n_threads = 2, .n_ctx = 512 * slots, .n_seq = slots};
    f->l = llm_open(&o);
    assert_non_null(f->l);
    f->tok = tokenizer_load(f->l->m->file);
    assert_non_null(f->tok);
    engine_config c = {slots, queue, 0};
    f->e = engine_new(f->l, f->tok, &c);
    assert_non_null(f->e);
}

static void close_fixture(fixture *f) {
    engine_free(f->e);
    tokenizer_free(f->tok);
    llm_close(f->l);
}

static engine_params greedy(const int32_t *prompt, int n, int max_tokens) {
    engine_params p;
    memset(&p, 0, sizeof p);
    p.prompt = prompt;
    p.n_prompt = n;
    p.sampling = sampler_defaults();
    p.max_tokens = max_tokens;
    p.ignore_eos = true;
    return p;
}

/* Collects a request's tokens until done; returns the count. */
static int collect(engine_req *r, int32_t *out, int cap, engine_event *last) {
    int n = 0;
    engine_event ev;
    while (engine_next_event(r, &ev, 20000) == 1) {
        if (ev.done) {
            *last = ev;
            return n;
        }
        if (n < cap) out[n++] = ev.token;
    }
    fail_msg("timed out waiting for the engine");
    return n;
}

static void make_prompt(int32_t *p, int n, int seed) {
    for (int i = 0; i < n; i++) p[i] = (int32_t)((i * 37 + seed * 101) % 400 + 1);
}

static void test_batched_equals_sequential(void **state) {
    (void)state;
    enum { N = 4, GEN = 24 };
    int32_t prompts[N][40], alone[N][GEN], together[N][GEN];
    int lens[N] = {5, 17, 33, 40};
    for (int i = 0; i < N; i++) make_prompt(prompts[i], lens[i], i);
    fixture f;
    open_fixture(&f, N, 16);
    engine_event last;
    for (int i = 0; i < N; i++) {
        engine_params p = greedy(prompts[i], lens[i], GEN);
        engine_req *r = engine_submit(f.e, &p);
        assert_non_null(r);
        assert_int_equal(collect(r, alone[i], GEN, &last), GEN);
        assert_int_equal(last.finish, ENGINE_FINISH_LENGTH);
        engine_release(r);
    }
    close_fixture(&f);
    /* fresh engine (no cached prefixes), all at once */
    open_fixture(&f, N, 16);
    engine_req *rs[N];
    for (int i = 0; i < N; i++) {
        engine_params p = greedy(prompts[i], lens[i], GEN);
        rs[i] = engine_submit(f.e, &p);
        assert_non_null(rs[i]);
    }
    for (int i = 0; i < N; i++) {
        assert_int_equal(collect(rs[i], together[i], GEN, &last), GEN);
        assert_int_equal(last.n_prompt, lens[i]);
        assert_int_equal(last.n_generated, GEN);
        assert_memory_equal(alone[i], together[i], sizeof alone[i]);
        engine_release(rs[i]);
    }
    close_fixture(&f);
}

static void test_prefix_reuse(void **state) {
    (void)state;
    enum { GEN = 16 };
    int32_t prompt[60], first[GEN], second[GEN], fresh[GEN];
    make_prompt(prompt, 60, 9);
    fixture f;
    open_fixture(&f, 1, 4);
    engine_event last;
    engine_params p = greedy(prompt, 50, GEN);
    engine_req *r = engine_submit(f.e, &p);
    collect(r, first, GEN, &last);
    assert_int_equal(last.n_cached, 0);
    engine_release(r);
    /* the same 50 tokens plus 10 more: 50 come from the cache */
    p = greedy(prompt, 60, GEN);
    r = engine_submit(f.e, &p);
    collect(r, second, GEN, &last);
    assert_int_equal(last.n_cached, 50);
    engine_release(r);
    close_fixture(&f);
    open_fixture(&f, 1, 4);
    r = engine_submit(f.e, &p);
    collect(r, fresh, GEN, &last);
    assert_int_equal(last.n_cached, 0);
    assert_memory_equal(second, fresh, sizeof fresh);
    engine_release(r);
    close_fixture(&f);
}

static void test_cancel_and_queue(void **state) {
    (void)state;
    int32_t prompt[20];
    make_prompt(prompt, 20, 1);
    fixture f;
    open_fixture(&f, 1, 1);
    engine_params p = greedy(prompt, 20, 100000);
    p.max_tokens = 400; /* context per slot is 512 */
    engine_req *a = engine_submit(f.e, &p);
    assert_non_null(a);
    engine_event ev;
    assert_int_equal(engine_next_event(a, &ev, 20000), 1); /* a is running */
    engine_req *b = engine_submit(f.e, &p); /* waits */
    assert_non_null(b);
    engine_req *c = engine_submit(f.e, &p); /* queue of 1 is full */
    assert_null(c);
    assert_non_null(strstr(fn_errmsg(), "queue full"));
    engine_cancel(a);
    int32_t sink[512];
    engine_event last;
    collect(a, sink, 512, &last);
    assert_int_equal(last.finish, ENGINE_FINISH_CANCELLED);
    engine_release(a);
    /* b gets the slot and runs */
    assert_int_equal(engine_next_event(b, &ev, 20000), 1);
    assert_false(ev.done);
    engine_release(b); /* releasing a running request cancels it */
    engine_stats st;
    for (int i = 0; i < 200; i++) {
        engine_get_stats(f.e, &st);
        if (st.active == 0 && st.queued == 0) break;
        usleep(10000);
    }
    assert_int_equal(st.active, 0);
    assert_int_equal(st.queued, 0);
    /* a prompt that does not fit the context is refused */
    int32_t *big = calloc(600, sizeof *big);
    engine_params pb = greedy(big, 600, 1);
    assert_null(engine_submit(f.e, &pb));
    assert_non_null(strstr(fn_errmsg(), "context"));
    free(big);
    close_fixture(&f);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batched_equals_sequential),
        cmocka_unit_test(test_prefix_reuse),
        cmocka_unit_test(test_cancel_and_queue),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
