/* sampler.h - choosing the next token from logits: greedy or temperature sampling with
 * top-k, top-p and min-p truncation, repetition/presence/frequency penalties, a seeded
 * generator for reproducibility, and the top-n log-probabilities for the API. */
#ifndef FENNEC_SAMPLE_SAMPLER_H
#define FENNEC_SAMPLE_SAMPLER_H

#include <stdint.h>

typedef struct {
    float temperature;       /* 0: greedy (argmax); otherwise > 0 */
    int top_k;               /* keep the k most likely (0: off) */
    float top_p;             /* keep the smallest set with probability >= top_p (1: off) */
    float min_p;             /* drop tokens below min_p * p(best) (0: off) */
    float repeat_penalty;    /* llama.cpp-style: divide positive logits of seen tokens (1: off) */
    int penalty_last_n;      /* how many recent tokens the penalties look at (0: all kept) */
    float presence_penalty;  /* OpenAI: subtract once per seen token (0: off) */
    float frequency_penalty; /* OpenAI: subtract per occurrence (0: off) */
    uint64_t seed;
} sampler_params;

/* Defaults: greedy, no truncation, no penalties, last_n 64, seed 0. */
sampler_params sampler_defaults(void);

/* Checks ranges; returns 0 or -1 with fn_errmsg() naming the parameter and its range. */
int sampler_params_check(const sampler_params *p);

typedef struct {
    int32_t token;
    float logprob;           /* natural log of the model's probability */
} sampler_logprob;

typedef struct sampler sampler;

/* NULL + fn_errmsg() on invalid parameters or out of memory. */
sampler *sampler_new(const sampler_params *p, int n_vocab);
void sampler_free(sampler *s);

/* Forgets the token history (penalties) and reseeds. */
void sampler_reset(sampler *s);

/* Adds a token to the history the penalties look at (prompt and generated tokens). */
void sampler_accept(sampler *s, int32_t token);

/* Picks the next token. logits (n_vocab) are modified in place (penalties applied). If
 * top is given, the n_top most likely tokens and their log-probabilities (after
 * penalties, before temperature and truncation) are written there, and *chosen_logprob
 * gets the chosen token's. */
int32_t sampler_sample(sampler *s, float *logits, sampler_logprob *top, int n_top, float *chosen_logprob);

#endif
