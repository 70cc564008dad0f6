/* xoshiro256** (Blackman and Vigna), seeded with splitmix64 so any 64-bit seed is fine. */
#include "config.h"

#include <math.h>

#include "fewshot/rng.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void fewshot_rng_seed(fewshot_rng *rng, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&x);
}

uint64_t fewshot_rng_u64(fewshot_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double fewshot_rng_uniform(fewshot_rng *rng)
{
    return (double)(fewshot_rng_u64(rng) >> 11) * 0x1.0p-53;
}

uint64_t fewshot_rng_below(fewshot_rng *rng, uint64_t n)
{
    if (n == 0)
        return 0;
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;   /* reject the biased tail */
    uint64_t x;
    do
        x = fewshot_rng_u64(rng);
    while (x >= limit);
    return x % n;
}

double fewshot_rng_normal(fewshot_rng *rng)
{
    /* Marsaglia's polar method; the spare value is dropped to keep the state a plain struct. */
    double u, v, s;
    do {
        u = 2.0 * fewshot_rng_uniform(rng) - 1.0;
        v = 2.0 * fewshot_rng_uniform(rng) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    return u * sqrt(-2.0 * log(s) / s);
}

uint64_t fewshot_rng_poisson(fewshot_rng *rng, double lambda)
{
    if (!(lambda > 0))
        return 0;
    if (lambda < 30.0) {
        /* Knuth: multiply uniforms until the product drops below e^-lambda. */
        double limit = exp(-lambda), p = 1.0;
        uint64_t k = 0;
        do {
            k++;
            p *= fewshot_rng_uniform(rng);
        } while (p > limit);
        return k - 1;
    }
    /* Atkinson's rejection method (PA) for large means. */
    double c = 0.767 - 3.36 / lambda, beta = M_PI / sqrt(3.0 * lambda);
    double alpha = beta * lambda, k = log(c) - lambda - log(beta);
    for (;;) {
        double u = fewshot_rng_uniform(rng);
        if (u <= 0.0 || u >= 1.0)
            continue;
        double x = (alpha - log((1.0 - u) / u)) / beta;
        double n = floor(x + 0.5);
        if (n < 0)
            continue;
        double v = fewshot_rng_uniform(rng);
        if (v <= 0.0)
            continue;
        double y = alpha - beta * x, t = 1.0 + exp(y);
        if (y + log(v / (t * t)) <= k + n * log(lambda) - lgamma(n + 1.0))
            return (uint64_t)n;
    }
}
