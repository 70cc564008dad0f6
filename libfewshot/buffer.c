/*
 * The online buffer: a ring of owned transition copies.
 */
#include "config.h"

#include <stdlib.h>

#include "fewshot/buffer.h"
#include "fewshot/error.h"
#include "retrieval_internal.h"

struct fewshot_buffer {
    fewshot_demo *ring;
    size_t capacity, head, count;   /* head: slot of the oldest */
    uint64_t pushed;
};

int fewshot_buffer_new(fewshot_buffer **out, size_t capacity)
{
    *out = NULL;
    if (capacity == 0)
        return fewshot_error_set(FEWSHOT_EINVAL, "online buffer: capacity must be at least 1");
    fewshot_buffer *b = calloc(1, sizeof *b);
    if (!b || !(b->ring = calloc(capacity, sizeof *b->ring))) {
        free(b);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    b->capacity = capacity;
    *out = b;
    return 0;
}

void fewshot_buffer_clear(fewshot_buffer *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->count; i++)
        fewshot__demo_clear(&b->ring[(b->head + i) % b->capacity]);
    b->head = b->count = 0;
    b->pushed = 0;
}

void fewshot_buffer_free(fewshot_buffer *b)
{
    if (!b)
        return;
    fewshot_buffer_clear(b);
    free(b->ring);
    free(b);
}

int fewshot_buffer_push(fewshot_buffer *b, const fewshot_demo *t)
{
    if (!b)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_buffer_push: NULL buffer");
    int rc = fewshot__demo_check(t, "online buffer");
    if (rc)
        return rc;
    fewshot_demo copy;
    if ((rc = fewshot__demo_copy(&copy, t)))
        return rc;
    size_t slot;
    if (b->count == b->capacity) {
        slot = b->head;
        fewshot__demo_clear(&b->ring[slot]);
        b->head = (b->head + 1) % b->capacity;
    } else {
        slot = (b->head + b->count++) % b->capacity;
    }
    b->ring[slot] = copy;
    b->pushed++;
    return 0;
}

size_t fewshot_buffer_count(const fewshot_buffer *b)
{
    return b ? b->count : 0;
}

size_t fewshot_buffer_capacity(const fewshot_buffer *b)
{
    return b ? b->capacity : 0;
}

uint64_t fewshot_buffer_pushed(const fewshot_buffer *b)
{
    return b ? b->pushed : 0;
}

const fewshot_demo *fewshot_buffer_get(const fewshot_buffer *b, size_t i)
{
    return b && i < b->count ? &b->ring[(b->head + i) % b->capacity] : NULL;
}
