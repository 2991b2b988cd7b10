/* sampler.c - token selection (see sampler.h). Truncation works on a candidate list that
 * is sorted only as far as needed: the best 64, then 1024, then all, so the common cases
 * never sort the whole vocabulary. */
#include "sample/sampler.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "base/error.h"
#include "base/rng.h"

typedef struct {
    int32_t id;
    float logit;
} cand;

struct sampler {
    sampler_params p;
    int n_vocab;
    fn_rng rng;
    cand *cands;          /* n_vocab */
    int32_t *history;     /* ring of the last penalty_last_n tokens (or all, growing) */
    int hist_len, hist_cap, hist_head;
    int32_t *counts;      /* occurrences per token in the history */
};

sampler_params sampler_defaults(void) {
    sampler_params p = {0};
    p.temperature = 0.0f;
    p.top_p = 1.0f;
    p.repeat_penalty = 1.0f;
    p.penalty_last_n = 64;
    return p;
}

int sampler_params_check(const sampler_params *p) {
    if (!(p->temperature >= 0.0f && p->temperature <= 100.0f)) return fn_error("temperature must be in [0, 100]");
    if (p->top_k < 0) return fn_error("top_k must be >= 0");
    if (!(p->top_p > 0.0f && p->top_p <= 1.0f)) return fn_error("top_p must be in (0, 1]");
    if (!(p->min_p >= 0.0f && p->min_p <= 1.0f)) return fn_error("min_p must be in [0, 1]");
    if (!(p->repeat_penalty > 0.0f && p->repeat_penalty <= 10.0f)) return fn_error("repeat_penalty must be in (0, 10]");
    if (p->penalty_last_n < 0 || p->penalty_last_n > (1 << 20)) return fn_error("penalty_last_n must be in [0, 1048576]");
    if (!(p->presence_penalty >= -2.0f && p->presence_penalty <= 2.0f)) return fn_error("presence_penalty must be in [-2, 2]");
    if (!(p->frequency_penalty >= -2.0f && p->frequency_penalty <= 2.0f)) return fn_error("frequency_penalty must be in [-2, 2]");
    return 0;
}

sampler *sampler_new(const sampler_params *p, int n_vocab) {
    if (sampler_params_check(p)) return NULL;
    if (n_vocab <= 0) return fn_error("sampler: empty vocabulary"), NULL;
    sampler *s = calloc(1, sizeof *s);
    if (!s) return fn_error("out of memory"), NULL;
    s->p = *p;
    s->n_vocab = n_vocab;
    s->hist_cap = p->penalty_last_n ? p->penalty_last_n : 4096;
    s->cands = malloc((size_t)n_vocab * sizeof *s->cands);
    s->counts = calloc((size_t)n_vocab, sizeof *s->counts);
    s->history = malloc((size_t)s->hist_cap * sizeof *s->history);
    if (!s->cands || !s->counts || !s->history) {
        sampler_free(s);
        return fn_error("out of memory"), NULL;
    }
    sampler_reset(s);
    return s;
}

void sampler_free(sampler *s) {
    if (!s) return;
    free(s->cands);
    free(s->counts);
    free(s->history);
    free(s);
}

void sampler_reset(sampler *s) {
    fn_rng_seed(&s->rng, s->p.seed);
    memset(s->counts, 0, (size_t)s->n_vocab * sizeof *s->counts);
    s->hist_len = s->hist_head = 0;
}

void sampler_accept(sampler *s, int32_t token) {
    if (token < 0 || token >= s->n_vocab) return;
    if (s->p.penalty_last_n == 0) {
        /* unbounded history: grow */
        if (s->hist_len == s->hist_cap) {
            int32_t *g = realloc(s->history, (size_t)s->hist_cap * 2 * sizeof *g);
            if (!g) return; /* keep the counts we have; penalties stay approximately right */
            s->history = g;
            s->hist_cap *= 2;
        }
        s->history[s->hist_len++] = token;
        s->counts[token]++;
        return;
    }
    if (s->hist_len == s->hist_cap) {
        s->counts[s->history[s->hist_head]]--;
        s->history[s->hist_head] = token;
        s->hist_head = (s->hist_head + 1) % s->hist_cap;
    } else {
        s->history[(s->hist_head + s->hist_len) % s->hist_cap] = token;
        s->hist_len++;
    }
    s->counts[token]++;
}

static void apply_penalties(sampler *s, float *logits) {
    const sampler_params *p = &s->p;
    if (p->repeat_penalty == 1.0f && p->presence_penalty == 0.0f && p->frequency_penalty == 0.0f) return;
    /* each distinct token of the history once */
    for (int i = 0; i < s->hist_len; i++) {
        int32_t t = s->history[p->penalty_last_n == 0 ? i : (s->hist_head + i) % s->hist_cap];
        int c = s->counts[t];
        if (c <= 0) continue;
        float *l = &logits[t];
        if (*l > 0) *l /= p->repeat_penalty;
        else *l *= p->repeat_penalty;
        *l -= (float)c * p->frequency_penalty + p->presence_penalty;
        s->counts[t] = -c; /* mark as done for this pass */
    }
    for (int i = 0; i < s->hist_len; i++) {
        int32_t t = s->history[p->penalty_last_n == 0 ? i : (s->hist_head + i) % s->hist_cap];
        if (s->counts[t] < 0) s->counts[t] = -s->counts[t];
    }
}

static int cand_cmp(const void *a, const void *b) {
    float x = ((const cand *)a)->logit, y = ((const cand *)b)->logit;
    if (x != y) return x < y ? 1 : -1;
    return ((const cand *)a)->id - ((const cand *)b)->id;
}

/* Moves the k best candidates to the front of c[0..n), sorted (quickselect + sort). */
static void partial_sort(cand *c, int n, int k) {
    if (k >= n) {
        qsort(c, (size_t)n, sizeof *c, cand_cmp);
        return;
    }
    int lo = 0, hi = n - 1;
    while (lo < hi) {
        cand pivot = c[(lo + hi) / 2];
        int i = lo, j = hi;
        while (i <= j) {
            while (cand_cmp(&c[i], &pivot) < 0) i++;
            while (cand_cmp(&c[j], &pivot) > 0) j--;
            if (i <= j) {
                cand t = c[i];
                c[i++] = c[j];
                c[j--] = t;
            }
        }
        if (k - 1 <= j) hi = j;
        else if (k - 1 >= i) lo = i;
        else break;
    }
    qsort(c, (size_t)k, sizeof *c, cand_cmp);
}

int32_t sampler_sample(sampler *s, float *logits, sampler_logprob *top, int n_top, float *chosen_logprob) {
    const sampler_params *p = &s->p;
    int n = s->n_vocab;
    apply_penalties(s, logits);

    float max = logits[0];
    int32_t best = 0;
    for (int i = 1; i < n; i++)
        if (logits[i] > max) {
            max = logits[i];
            best = i;
        }
    double z = 0.0;
    bool need_z = top || chosen_logprob || p->temperature > 0;
    if (need_z)
        for (int i = 0; i < n; i++) z += exp((double)logits[i] - max);
    float log_z = (float)log(z) + max;

    if (top && n_top > 0) {
        if (n_top > n) n_top = n;
        for (int i = 0; i < n; i++) s->cands[i] = (cand){i, logits[i]};
        partial_sort(s->cands, n, n_top);
        for (int i = 0; i < n_top; i++) top[i] = (sampler_logprob){s->cands[i].id, s->cands[i].logit - log_z};
    }
    int32_t chosen = best;
    if (p->temperature > 0) {
        for (int i = 0; i < n; i++) s->cands[i] = (cand){i, logits[i]};
        /* how many candidates truncation can keep, sorted as far as needed */
        int keep = p->top_k > 0 && p->top_k < n ? p->top_k : n;
        int sorted = 0;
        for (int want = 64;; want *= 16) {
            int k = want < keep ? want : keep;
            partial_sort(s->cands, n, k);
            sorted = k;
            /* enough if top-p and min-p are already decided inside the sorted prefix */
            double cum = 0.0;
            bool decided = false;
            for (int i = 0; i < k; i++) {
                double pr = exp((double)s->cands[i].logit - log_z);
                cum += pr;
                if ((p->top_p < 1.0f && cum >= p->top_p) ||
                    (p->min_p > 0 && pr < p->min_p * exp((double)max - log_z))) {
                    decided = true;
                    break;
                }
            }
            if (decided || k == keep) break;
        }
        keep = sorted < keep ? sorted : keep;
        /* min-p, then top-p on the sorted prefix */
        double pmax = exp((double)max - log_z), cum = 0.0;
        int m = 0;
        for (; m < keep; m++) {
            double pr = exp((double)s->cands[m].logit - log_z);
            if (p->min_p > 0 && m > 0 && pr < p->min_p * pmax) break;
            cum += pr;
            if (p->top_p < 1.0f && cum >= p->top_p) {
                m++;
                break;
            }
        }
        if (m < 1) m = 1;
        /* temperature, then draw */
        double total = 0.0;
        float top_logit = s->cands[0].logit;
        for (int i = 0; i < m; i++) total += exp(((double)s->cands[i].logit - top_logit) / p->temperature);
        double r = fn_rng_uniform(&s->rng) * total, acc = 0.0;
        chosen = s->cands[m - 1].id;
        for (int i = 0; i < m; i++) {
            acc += exp(((double)s->cands[i].logit - top_logit) / p->temperature);
            if (r < acc) {
                chosen = s->cands[i].id;
                break;
            }
        }
    }
    if (chosen_logprob) *chosen_logprob = logits[chosen] - log_z;
    return chosen;
}
