/* rng.h - small seeded pseudo-random generator (xoshiro256**, seeded by splitmix64).
 * Deterministic across platforms so a seed always makes the same synthetic model. */
#ifndef FENNEC_BASE_RNG_H
#define FENNEC_BASE_RNG_H

#include <stdint.h>

typedef struct { uint64_t s[4]; } fn_rng;

void fn_rng_seed(fn_rng *r, uint64_t seed);
uint64_t fn_rng_next(fn_rng *r);
/* Uniform in [0, 1). */
double fn_rng_uniform(fn_rng *r);
/* Standard normal (Box-Muller). */
double fn_rng_normal(fn_rng *r);

#endif
