/*
 * Secret redaction for text that came from a server. A server may quote the credential it
 * was sent (a 401 "invalid key sk-..."); such text reaches error messages, logs and
 * results.sqlite, so every copy of a server's words is masked first.
 */
#include "config.h"

#include <string.h>

#include "internal.h"

void fewshot__redact(char *s, const char *secret)
{
    if (!s || !secret)
        return;
    size_t n = strlen(secret);
    if (n < 4)          /* too short to tell apart from ordinary words */
        return;
    char *hit;
    while ((hit = strstr(s, secret)) != NULL)
        memset(hit, '*', n);
}
