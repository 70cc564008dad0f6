/*
 * The token estimate against a real tokenizer: shipped prompts (tests/data/tokens/NN-*.json,
 * made by tests/data/tokens/generate.sh with o200k_base from the npm registry) and their
 * real counts. The estimate of what a chat request bills (fewshot_prompt_tokens() of each
 * message plus the framing fewshot_prompt_build() adds) must come within 5% of the real
 * count on each prompt and over all of them.
 */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fewshot.h>

static int failures;

static int compare(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(void)
{
    const char *top = getenv("top_srcdir");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/tests/data/tokens", top ? top : ".");
    DIR *d = opendir(dir);
    if (!d) {
        fprintf(stderr, "FAIL cannot open %s\n", dir);
        return 1;
    }
    char *names[64];
    size_t n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL && n < 64)
        if (strstr(e->d_name, ".json"))
            names[n++] = strdup(e->d_name);
    closedir(d);
    qsort(names, n, sizeof *names, compare);
    double est_all = 0, real_all = 0;
    for (size_t i = 0; i < n; i++) {
        char path[8192];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        json_error_t err;
        json_t *doc = json_load_file(path, 0, &err);
        if (!doc) {
            fprintf(stderr, "FAIL %s:%d: %s\n", path, err.line, err.text);
            failures++;
            continue;
        }
        json_t *messages = json_object_get(doc, "messages"), *m;
        size_t k, est = 0;
        json_array_foreach(messages, k, m) {
            json_t *c = json_object_get(m, "content");
            est += fewshot_prompt_tokens(json_string_value(c), json_string_length(c)) +
                   FEWSHOT_PROMPT_MESSAGE_TOKENS;
        }
        double real = (double)json_integer_value(json_object_get(doc, "o200k"));
        double ratio = (double)est / real;
        printf("%-28s o200k %5.0f  estimate %5zu  ratio %.3f\n", names[i], real, est, ratio);
        if (fabs(ratio - 1) > 0.05) {
            fprintf(stderr, "FAIL %s: estimate %zu is %.1f%% off the real %0.f tokens\n",
                    names[i], est, 100 * (ratio - 1), real);
            failures++;
        }
        est_all += (double)est;
        real_all += real;
        json_decref(doc);
        free(names[i]);
    }
    if (n < 8) {
        fprintf(stderr, "FAIL expected 8 or more prompts in %s, found %zu\n", dir, n);
        failures++;
    }
    printf("all %zu prompts: o200k %.0f, estimate %.0f, ratio %.3f\n", n, real_all, est_all,
           real_all > 0 ? est_all / real_all : 0);
    if (real_all > 0 && fabs(est_all / real_all - 1) > 0.05) {
        fprintf(stderr, "FAIL the estimate over all prompts is off by more than 5%%\n");
        failures++;
    }
    return failures ? 1 : 0;
}
