/*
 * How long a prefix two byte strings share: the question the prompt's token memo and the
 * prefix-resuming SHA-256 both ask of consecutive prompts, which mostly agree for kilobytes.
 */
#include "config.h"

#include <string.h>

#include "internal.h"

size_t fewshot__common_prefix(const char *a, const char *b, size_t n)
{
    /* memcmp over blocks (vectorized in libc), bytes only in the block that differs */
    size_t i = 0;
    while (i + 256 <= n && memcmp(a + i, b + i, 256) == 0)
        i += 256;
    while (i + 16 <= n && memcmp(a + i, b + i, 16) == 0)
        i += 16;
    while (i < n && a[i] == b[i])
        i++;
    return i;
}
