/*
 * Retry policy: which failures deserve another attempt and how long to wait before it.
 *
 * Transient trouble (timeouts, dropped connections, 408 Request Timeout, 409 Conflict,
 * 429 Too Many Requests, 5xx, a 2xx body that is not valid JSON) is retried. Other 4xx mean
 * the request itself is wrong and would fail again. The server's Retry-After wins over our
 * own backoff; otherwise the wait doubles per attempt up to a cap, with "equal jitter" (half
 * fixed, half random) so a burst of failures does not come back as a synchronized burst.
 */
#define _GNU_SOURCE 1
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "llm_internal.h"

int llm_retryable(CURLcode curl_code, long http_status, int parse_failed)
{
    if (curl_code != CURLE_OK) {
        switch (curl_code) {
        case CURLE_UNSUPPORTED_PROTOCOL:
        case CURLE_URL_MALFORMAT:
        case CURLE_NOT_BUILT_IN:
        case CURLE_PEER_FAILED_VERIFICATION:
        case CURLE_SSL_CERTPROBLEM:
        case CURLE_SSL_CACERT_BADFILE:
        case CURLE_FUNCTION_NOT_FOUND:
        case CURLE_BAD_FUNCTION_ARGUMENT:
        case CURLE_OUT_OF_MEMORY:
        case CURLE_WRITE_ERROR:          /* our own callback refused: not the network */
        case CURLE_ABORTED_BY_CALLBACK:
            return 0;
        default:
            return 1;
        }
    }
    if (http_status >= 200 && http_status < 300)
        return parse_failed;
    /* 501 Not Implemented and 505 HTTP Version Not Supported will not change on a retry */
    if (http_status == 501 || http_status == 505)
        return 0;
    return http_status == 408 || http_status == 409 || http_status == 429 || http_status >= 500;
}

/* xorshift64*: enough randomness for jitter, seeded per client for reproducible tests */
static double next_unit(uint64_t *s)
{
    uint64_t x = *s ? *s : 0x9E3779B97F4A7C15ULL;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

double llm_backoff(const llm_retry_policy *p, unsigned int attempt, double retry_after,
                   uint64_t *rng)
{
    /* the server's Retry-After wins over our backoff, but not over max_wait: a hostile or
     * confused server cannot park a request for an hour (fewshot-llm(5)) */
    if (retry_after >= 0)
        return retry_after < p->cap ? retry_after : p->cap;
    double base = p->initial * ldexp(1.0, (int)(attempt > 30 ? 30 : attempt) - 1);
    if (base > p->cap)
        base = p->cap;
    return base / 2 + base / 2 * next_unit(rng);
}

double llm_parse_retry_after(const char *value, int millis, double now_unix)
{
    while (*value && isspace((unsigned char)*value))
        value++;
    if (!*value)
        return -1;
    char *end;
    double v = strtod(value, &end);
    if (end != value) {
        while (*end && isspace((unsigned char)*end))
            end++;
        if (*end || !(v >= 0) || !isfinite(v))
            return -1;
        return millis ? v / 1000.0 : v;
    }
    if (millis)
        return -1;
    /* HTTP-date, e.g. "Wed, 21 Oct 2015 07:28:00 GMT" */
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    const char *rest = strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
    if (!rest)
        return -1;
    double when = (double)timegm(&tm);
    return when > now_unix ? when - now_unix : 0;
}
