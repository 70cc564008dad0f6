/*
 * UTF-8 validation with an ASCII fast path: prompts are kilobytes of mostly ASCII text, and
 * json_string() checks them a byte at a time (about 11 instructions per byte) every time one
 * becomes a JSON value. Eight ASCII bytes are checked at once here; other sequences are held
 * to what jansson accepts (no overlong forms, surrogates or code points past U+10FFFF), so a
 * string that passes may be made with json_stringn_nocheck().
 */
#include "config.h"

#include <stdint.h>
#include <string.h>

#include "internal.h"

/* Length of the valid sequence at s (at most n bytes), 0 if invalid. */
static size_t sequence(const unsigned char *s, size_t n)
{
    unsigned char c = s[0];
    size_t len;
    uint32_t cp;
    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, cp = c & 0x07;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3f);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) || cp > 0x10ffff ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

int fewshot__utf8_valid(const char *text, size_t n)
{
    const unsigned char *s = (const unsigned char *)text;
    size_t i = 0;
    while (i < n) {
        if (i + 8 <= n) {
            uint64_t w;
            memcpy(&w, s + i, 8);
            if ((w & 0x8080808080808080ULL) == 0) {
                i += 8;
                continue;
            }
        }
        size_t len = sequence(s + i, n - i);
        if (!len)
            return 0;
        i += len;
    }
    return 1;
}

json_t *fewshot__json_text(const char *s, size_t n)
{
    return fewshot__utf8_valid(s, n) ? json_stringn_nocheck(s, n) : NULL;
}
