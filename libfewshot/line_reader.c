/*
 * Bounded line reading. getline(3) grows its buffer until it finds a newline, so a file
 * without one (/dev/zero, a binary file given by mistake) is read until memory runs out.
 * Every text reader of outside input goes through this instead and stops at a limit.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "internal.h"

int fewshot__read_line(FILE *f, char **line, size_t *cap, size_t max, size_t *len)
{
    size_t n = 0;
    int c = EOF;
    *len = 0;
    flockfile(f);
    while ((c = getc_unlocked(f)) != EOF) {
        if (n > max)
            break;
        if (n + 2 > *cap) {
            size_t want = *cap ? *cap * 2 : 256;
            if (want > max + 2)
                want = max + 2;
            char *p = realloc(*line, want);
            if (!p) {
                funlockfile(f);
                return -2;
            }
            *line = p;
            *cap = want;
        }
        (*line)[n++] = (char)c;
        if (c == '\n')
            break;
    }
    funlockfile(f);
    if (n > max)
        return -1;
    if (n == 0 && !*line && !(*line = malloc(*cap = 1)))
        return -2;
    (*line)[n] = '\0';
    *len = n;
    return n > 0 ? 1 : 0;
}
