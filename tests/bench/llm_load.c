/*
 * llm-load: drive an OpenAI-compatible endpoint with N requests, K in flight, from one thread
 * through one fewshot_llm client, and print what happened as one JSON line: throughput, HTTP
 * requests, cache hits, client CPU per request and memory per in-flight request.
 *
 *   llm-load --base-url URL [--model M] [--requests N] [--in-flight K] [--endpoint chat|completion]
 *            [--max-tokens T] [--cache FILE] [--distinct] [--schema FILE] [--check-actions N]
 *            [--prompt-file FILE]
 *
 * --distinct makes every prompt different (otherwise too); --check-actions N requires each reply
 * to be JSON {"actions": [N integers in -100..100]} (structured output). --prompt-file sends
 * that text (e.g. a paper-size prompt from `fewshot prompt`) with the request number appended,
 * instead of the 130-byte default.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <fewshot.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double cpu(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec * 1e-6 + (double)ru.ru_stime.tv_sec
           + ru.ru_stime.tv_usec * 1e-6;
}

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static int valid_actions(const char *text, int n)
{
    json_t *doc = json_loads(text, 0, NULL);
    json_t *a = json_object_get(doc, "actions");
    int ok = json_is_array(a) && (int)json_array_size(a) == n;
    size_t i;
    json_t *v;
    json_array_foreach(a, i, v)
        ok = ok && json_is_integer(v) && json_integer_value(v) >= -100
             && json_integer_value(v) <= 100;
    json_decref(doc);
    return ok;
}

int main(int argc, char **argv)
{
    const char *base = NULL, *model = "test-model", *endpoint = "chat", *cache_path = NULL,
               *schema_file = NULL, *prompt_file = NULL;
    long n = 100, k = 8, max_tokens = 0, check = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
        if (strcmp(a, "--base-url") == 0) base = v, i++;
        else if (strcmp(a, "--model") == 0) model = v, i++;
        else if (strcmp(a, "--requests") == 0) n = atol(v), i++;
        else if (strcmp(a, "--in-flight") == 0) k = atol(v), i++;
        else if (strcmp(a, "--endpoint") == 0) endpoint = v, i++;
        else if (strcmp(a, "--max-tokens") == 0) max_tokens = atol(v), i++;
        else if (strcmp(a, "--cache") == 0) cache_path = v, i++;
        else if (strcmp(a, "--schema") == 0) schema_file = v, i++;
        else if (strcmp(a, "--check-actions") == 0) check = atol(v), i++;
        else if (strcmp(a, "--prompt-file") == 0) prompt_file = v, i++;
        else if (strcmp(a, "--distinct") == 0) ;
        else {
            fprintf(stderr, "llm-load: unknown option %s\n", a);
            return 2;
        }
    }
    if (!base || n <= 0 || k <= 0) {
        fprintf(stderr, "usage: llm-load --base-url URL [--requests N] [--in-flight K] ...\n");
        return 2;
    }
    char *base_text = NULL;
    size_t base_len = 0;
    if (prompt_file) {
        FILE *f = fopen(prompt_file, "rb");
        if (!f || fseek(f, 0, SEEK_END) != 0 || (long)(base_len = (size_t)ftell(f)) < 0) {
            fprintf(stderr, "llm-load: cannot read %s\n", prompt_file);
            return 2;
        }
        rewind(f);
        base_text = malloc(base_len + 64);
        if (!base_text || fread(base_text, 1, base_len, f) != base_len) {
            fprintf(stderr, "llm-load: cannot read %s\n", prompt_file);
            return 2;
        }
        fclose(f);
    }
    fewshot_cache *cache = NULL;
    if (cache_path && fewshot_cache_open(&cache, cache_path, NULL) != 0) {
        fprintf(stderr, "llm-load: %s\n", fewshot_error_last()->message);
        return 1;
    }
    fewshot_llm_options o = FEWSHOT_LLM_OPTIONS_INIT;
    o.base_url = base;
    o.model = model;
    o.api_key_env = "";
    o.max_in_flight = (unsigned)k;
    o.cache = cache;
    o.cache_mode = cache ? FEWSHOT_LLM_CACHE_READWRITE : FEWSHOT_LLM_CACHE_OFF;
    o.request_timeout = 300;
    fewshot_llm *llm;
    if (fewshot_llm_new(&llm, &o) != 0) {
        fprintf(stderr, "llm-load: %s\n", fewshot_error_last()->message);
        return 1;
    }
    fewshot_llm_params p = FEWSHOT_LLM_PARAMS_INIT;
    p.temperature = 0;
    p.seed = 42;
    if (max_tokens > 0)
        p.max_tokens = (int)max_tokens;
    json_t *rf = NULL;
    if (schema_file) {
        json_t *schema = json_load_file(schema_file, 0, NULL);
        if (!schema) {
            fprintf(stderr, "llm-load: cannot read %s\n", schema_file);
            return 2;
        }
        rf = json_pack("{s:s,s:{s:s,s:b,s:o}}", "type", "json_schema", "json_schema", "name",
                       "actions", "strict", 1, "schema", schema);
        p.response_format = rf;
    }
    int ep = strcmp(endpoint, "completion") == 0 ? FEWSHOT_LLM_COMPLETION : FEWSHOT_LLM_CHAT;
    long rss0 = rss_kb(), rss_peak = rss0;
    double c0 = cpu(), t0 = now();
    long submitted = 0, done = 0, ok = 0, failed = 0, invalid = 0;
    char first_error[512] = "";
    /* keep K submitted at a time, as a sweep's event loop would */
    while (done < n) {
        while (submitted < n && submitted - done < k) {
            char small[160], *text = small;
            if (base_text) {
                snprintf(base_text + base_len, 64, "\nRequest %ld.", submitted);
                text = base_text;
            } else {
                snprintf(small, sizeof small, "Room 1: %ld degrees Celsius\nRoom 2: %ld degrees "
                         "Celsius\nRoom 3: 22 degrees Celsius\nTarget Temperature: 22 degrees "
                         "Celsius. Request %ld.", 15 + submitted % 10, 20 + submitted % 7,
                         submitted);
            }
            json_t *in = ep == FEWSHOT_LLM_CHAT ? fewshot_llm_messages(NULL, text)
                                                : json_string(text);
            if (fewshot_llm_submit(llm, ep, in, &p, NULL, NULL) != 0) {
                fprintf(stderr, "llm-load: %s\n", fewshot_error_last()->message);
                return 1;
            }
            json_decref(in);
            submitted++;
        }
        fewshot_llm_reply *r;
        int rc = fewshot_llm_poll(llm, -1, &r);
        if (done % 64 == 0) {
            long rss = rss_kb(); /* sampled: reading /proc costs more than a cache hit */
            if (rss > rss_peak)
                rss_peak = rss;
        }
        if (rc < 0) {
            fprintf(stderr, "llm-load: %s\n", fewshot_error_last()->message);
            return 1;
        }
        if (rc == 0)
            continue;
        done++;
        if (r->status) {
            failed++;
            if (!first_error[0])
                snprintf(first_error, sizeof first_error, "%s", r->error);
        } else {
            ok++;
            if (check && !valid_actions(r->text, (int)check)) {
                invalid++;
                if (!first_error[0])
                    snprintf(first_error, sizeof first_error, "not schema-valid: %s", r->text);
            }
        }
        fewshot_llm_reply_free(r);
    }
    double secs = now() - t0, cpus = cpu() - c0;
    fewshot_llm_stats st;
    fewshot_llm_get_stats(llm, &st);
    json_t *out = json_pack("{s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:I,s:I,s:I,s:f,s:f,s:s}",
                            "requests", (json_int_t)n, "in_flight", (json_int_t)k,
                            "ok", (json_int_t)ok, "failed", (json_int_t)failed,
                            "invalid", (json_int_t)invalid, "seconds", secs,
                            "per_second", n / secs, "http_requests", (json_int_t)st.http_requests,
                            "cache_hits", (json_int_t)st.cache_hits,
                            "max_in_flight_seen", (json_int_t)st.max_in_flight_seen,
                            "cpu_us_per_request", cpus / n * 1e6,
                            "kb_per_in_flight", (double)(rss_peak - rss0) / (double)k,
                            "first_error", first_error);
    char *s = json_dumps(out, JSON_COMPACT);
    printf("%s\n", s);
    free(s);
    json_decref(out);
    json_decref(rf);
    free(base_text);
    fewshot_llm_free(llm);
    fewshot_cache_free(cache);
    return failed || invalid ? 1 : 0;
}
