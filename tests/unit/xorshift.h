/*
 * Test helper: a xorshift64 generator (Marsaglia 2003) for reproducible random test data. Each
 * test keeps its own state, so its data does not depend on the order other tests draw in.
 */
#ifndef TESTS_XORSHIFT_H
#define TESTS_XORSHIFT_H

#include <stdint.h>

static inline uint64_t xorshift64(uint64_t *state)
{
    uint64_t x = *state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    return *state = x;
}

#endif
