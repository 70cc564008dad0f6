/*
 * libFuzzer target: the action parser on arbitrary replies, with the options chosen by the
 * first byte. Build and run with `make fuzz FUZZ_SECONDS=60`.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fewshot/parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const double lo3[] = {-1, -1, -1}, hi3[] = {1, 1, 1};
    static const double lo1[] = {0}, hi1[] = {50};
    if (size == 0)
        return 0;
    unsigned flags = data[0];
    fewshot_space s3 = {3, lo3, hi3, 0, NULL}, s1 = {1, lo1, hi1, 1, NULL};
    fewshot_parse_options o = FEWSHOT_PARSE_OPTIONS_INIT;
    o.action_scale = flags & 1 ? 100 : 1;
    o.integers = (flags >> 1) & 1;
    o.out_of_range = (flags >> 2) & 1 ? FEWSHOT_PARSE_REJECT : FEWSHOT_PARSE_CLAMP;
    o.non_integer = (flags >> 3) & 1 ? FEWSHOT_PARSE_REJECT : FEWSHOT_PARSE_ROUND;
    o.extra_values = (flags >> 4) & 1 ? FEWSHOT_PARSE_TRUNCATE : FEWSHOT_PARSE_REJECT;
    o.ranges = (flags >> 5) & 1 ? FEWSHOT_PARSE_REJECT : FEWSHOT_PARSE_MIDPOINT;
    /* parsers are made once per option set (compiling the patterns dominates otherwise) */
    static fewshot_parser *cache[128];
    fewshot_parser *p = cache[flags & 127];
    if (!p && fewshot_parser_new(&cache[flags & 127], (flags >> 6) & 1 ? &s1 : &s3, &o) != 0)
        abort();
    p = cache[flags & 127];
    double action[3] = {0};
    fewshot_parse_result res;
    int rc = fewshot_parser_parse(p, (const char *)data + 1, size - 1, action, &res);
    if (rc == 0) {
        /* a parsed action is finite and inside the box */
        size_t dim = (flags >> 6) & 1 ? 1 : 3;
        const double *lo = dim == 1 ? lo1 : lo3, *hi = dim == 1 ? hi1 : hi3;
        for (size_t i = 0; i < dim; i++)
            if (!isfinite(action[i]) || action[i] < lo[i] || action[i] > hi[i])
                abort();
    } else {
        if (res.code != rc || res.reason[0] == '\0')
            abort();
        char *text;
        if (fewshot_parser_reask(p, &res, &text) == 0)
            free(text);
    }
    return 0;
}
