/*
 * Rate limits as token buckets: requests per minute and tokens per minute. A bucket holds
 * up to one second's worth (at least one request, or the largest single request), refills
 * continuously, and may go negative when the real token usage exceeds the estimate, which
 * delays later requests until the debt is paid.
 */
#include "config.h"

#include "llm_internal.h"

void llm_bucket_init(llm_bucket *b, double per_minute, double now)
{
    b->rate = per_minute > 0 ? per_minute / 60.0 : 0;
    b->capacity = b->rate > 1 ? b->rate : 1;
    b->level = b->capacity;
    b->updated = now;
}

static void refill(llm_bucket *b, double now)
{
    if (now > b->updated) {
        b->level += (now - b->updated) * b->rate;
        if (b->level > b->capacity)
            b->level = b->capacity;
        b->updated = now;
    }
}

double llm_bucket_take(llm_bucket *b, double amount, double now)
{
    if (b->rate <= 0)
        return 0;
    refill(b, now);
    /* a request larger than the bucket goes when the bucket is full */
    double need = amount < b->capacity ? amount : b->capacity;
    if (b->level >= need) {
        b->level -= amount;
        return 0;
    }
    return (need - b->level) / b->rate;
}

void llm_bucket_adjust(llm_bucket *b, double amount)
{
    if (b->rate <= 0)
        return;
    b->level += amount;
    if (b->level > b->capacity)
        b->level = b->capacity;
}
