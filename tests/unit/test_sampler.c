/* test_sampler.c - sampler behaviour: greedy, truncation (top-k/p, min-p), temperature
 * statistics, penalties, seeded reproducibility, log-probabilities, parameter checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>
#include <math.h>
#include <string.h>

#include "base/error.h"
#include "sample/sampler.h"

#define V 8

static sampler *make(sampler_params p) {
    sampler *s = sampler_new(&p, V);
    assert_non_null(s);
    return s;
}

static void test_greedy(void **state) {
    (void)state;
    sampler *s = make(sampler_defaults());
    float l[V] = {0, 1, 5, 2, -1, 4.9f, 0, 0};
    assert_int_equal(sampler_sample(s, l, NULL, 0, NULL), 2);
    sampler_free(s);
}

static int draw(sampler *s, const float *logits) {
    float l[V];
    memcpy(l, logits, sizeof l);
    return sampler_sample(s, l, NULL, 0, NULL);
}

static void test_top_k_top_p_min_p(void **state) {
    (void)state;
    const float l[V] = {3, 2.9f, 2.8f, 0, 0, 0, 0, -5};
    sampler_params p = sampler_defaults();
    p.temperature = 1.0f;
    p.top_k = 2;
    sampler *s = make(p);
    for (int i = 0; i < 500; i++) {
        int t = draw(s, l);
        assert_true(t == 0 || t == 1);
    }
    sampler_free(s);
    /* top_p 0.5: the best token alone has p ~ 0.33, so at most the top 2 survive */
    p = sampler_defaults();
    p.temperature = 1.0f;
    p.top_p = 0.5f;
    s = make(p);
    for (int i = 0; i < 500; i++) assert_true(draw(s, l) <= 1);
    sampler_free(s);
    /* min_p 0.5: tokens below half the best's probability are dropped (0,1,2 remain) */
    p = sampler_defaults();
    p.temperature = 1.0f;
    p.min_p = 0.5f;
    s = make(p);
    int seen[V] = {0};
    for (int i = 0; i < 2000; i++) seen[draw(s, l)]++;
    assert_true(seen[0] > 0 && seen[1] > 0 && seen[2] > 0);
    for (int t = 3; t < V; t++) assert_int_equal(seen[t], 0);
    sampler_free(s);
}

static void test_temperature_distribution(void **state) {
    (void)state;
    /* two tokens with logits 0 and ln 3: p = 1/4, 3/4 at T = 1; at T = 2: 1/(1+sqrt 3) */
    float l[V] = {0, logf(3), -50, -50, -50, -50, -50, -50};
    sampler_params p = sampler_defaults();
    p.temperature = 1.0f;
    p.seed = 42;
    sampler *s = make(p);
    int ones = 0, n = 20000;
    for (int i = 0; i < n; i++) ones += draw(s, l) == 1;
    assert_true(fabs(ones / (double)n - 0.75) < 0.02);
    sampler_free(s);
    p.temperature = 2.0f;
    s = make(p);
    ones = 0;
    for (int i = 0; i < n; i++) ones += draw(s, l) == 1;
    assert_true(fabs(ones / (double)n - sqrt(3) / (1 + sqrt(3))) < 0.02);
    sampler_free(s);
}

static void test_seed_reproducible(void **state) {
    (void)state;
    const float l[V] = {1, 1, 1, 1, 1, 1, 1, 1};
    sampler_params p = sampler_defaults();
    p.temperature = 1.0f;
    p.seed = 7;
    sampler *a = make(p), *b = make(p);
    int same = 1, differs_from_other_seed = 0;
    p.seed = 8;
    sampler *c = make(p);
    for (int i = 0; i < 100; i++) {
        int x = draw(a, l), y = draw(b, l), z = draw(c, l);
        same &= x == y;
        differs_from_other_seed |= x != z;
    }
    assert_true(same);
    assert_true(differs_from_other_seed);
    sampler_reset(a);
    sampler_reset(b);
    assert_int_equal(draw(a, l), draw(b, l));
    sampler_free(a);
    sampler_free(b);
    sampler_free(c);
}

static void test_penalties(void **state) {
    (void)state;
    sampler_params p = sampler_defaults();
    p.frequency_penalty = 1.0f;
    p.presence_penalty = 0.5f;
    sampler *s = make(p);
    sampler_accept(s, 0);
    sampler_accept(s, 0);
    float l[V] = {3, 1.6f, 0, 0, 0, 0, 0, 0};
    /* token 0: 3 - 2*1.0 - 0.5 = 0.5 < 1.6 */
    assert_int_equal(sampler_sample(s, l, NULL, 0, NULL), 1);
    assert_true(fabsf(l[0] - 0.5f) < 1e-6f);
    sampler_free(s);
    p = sampler_defaults();
    p.repeat_penalty = 2.0f;
    s = make(p);
    sampler_accept(s, 0);
    sampler_accept(s, 3);
    float m[V] = {3, 2, 0, -1, 0, 0, 0, 0};
    assert_int_equal(sampler_sample(s, m, NULL, 0, NULL), 1); /* 3/2 = 1.5 < 2 */
    assert_true(fabsf(m[3] + 2.0f) < 1e-6f);                /* negative: multiplied */
    sampler_free(s);
    /* the window forgets old tokens */
    p = sampler_defaults();
    p.presence_penalty = 2.0f;
    p.penalty_last_n = 2;
    s = make(p);
    sampler_accept(s, 0);
    sampler_accept(s, 1);
    sampler_accept(s, 2);
    float n[V] = {1, 1, 1, 0, 0, 0, 0, 0};
    assert_int_equal(sampler_sample(s, n, NULL, 0, NULL), 0);
    sampler_free(s);
}

static void test_logprobs(void **state) {
    (void)state;
    sampler *s = make(sampler_defaults());
    float l[V] = {0, 1, 2, 3, 0, 0, 0, 0};
    sampler_logprob top[3];
    float chosen;
    assert_int_equal(sampler_sample(s, l, top, 3, &chosen), 3);
    double z = 0;
    for (int i = 0; i < V; i++) z += exp(i < 4 ? i : 0);
    assert_int_equal(top[0].token, 3);
    assert_int_equal(top[1].token, 2);
    assert_int_equal(top[2].token, 1);
    assert_true(fabs(top[0].logprob - (3 - log(z))) < 1e-5);
    assert_true(fabs(chosen - top[0].logprob) < 1e-6);
    sampler_free(s);
}

static void test_bad_params(void **state) {
    (void)state;
    sampler_params p = sampler_defaults();
    p.temperature = -1;
    assert_null(sampler_new(&p, V));
    assert_non_null(strstr(fn_errmsg(), "temperature"));
    p = sampler_defaults();
    p.top_p = 0;
    assert_int_equal(sampler_params_check(&p), -1);
    p = sampler_defaults();
    p.top_p = NAN;
    assert_int_equal(sampler_params_check(&p), -1);
    p = sampler_defaults();
    p.min_p = 1.5f;
    assert_int_equal(sampler_params_check(&p), -1);
    p = sampler_defaults();
    p.presence_penalty = 3;
    assert_int_equal(sampler_params_check(&p), -1);
    p = sampler_defaults();
    p.top_k = -1;
    assert_int_equal(sampler_params_check(&p), -1);
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_greedy),         cmocka_unit_test(test_top_k_top_p_min_p),
        cmocka_unit_test(test_temperature_distribution), cmocka_unit_test(test_seed_reproducible),
        cmocka_unit_test(test_penalties),      cmocka_unit_test(test_logprobs),
        cmocka_unit_test(test_bad_params),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
