/*
 * libfewshot: a small, fast, seedable random number generator (xoshiro256**, seeded through
 * splitmix64), shared by the library and plugins so that a seed means the same stream
 * everywhere. The state is a plain struct so it can be embedded and copied.
 */
#ifndef FEWSHOT_RNG_H
#define FEWSHOT_RNG_H

#include "fewshot/common.h"

FEWSHOT_BEGIN_DECLS

typedef struct fewshot_rng {
    uint64_t s[4];
} fewshot_rng;

/* Seed the generator; equal seeds give equal streams on every platform. */
FEWSHOT_EXTERN(void) fewshot_rng_seed(fewshot_rng *rng, uint64_t seed);

/* The next 64 random bits. */
FEWSHOT_EXTERN(uint64_t) fewshot_rng_u64(fewshot_rng *rng);

/* Uniform in [0, 1), 53 bits of precision. */
FEWSHOT_EXTERN(double) fewshot_rng_uniform(fewshot_rng *rng);

/* Uniform integer in [0, n) without modulo bias; 0 when n is 0. */
FEWSHOT_EXTERN(uint64_t) fewshot_rng_below(fewshot_rng *rng, uint64_t n);

/* Standard normal (mean 0, variance 1). */
FEWSHOT_EXTERN(double) fewshot_rng_normal(fewshot_rng *rng);

/* Poisson with mean lambda >= 0. */
FEWSHOT_EXTERN(uint64_t) fewshot_rng_poisson(fewshot_rng *rng, double lambda);

FEWSHOT_END_DECLS

#endif /* FEWSHOT_RNG_H */
