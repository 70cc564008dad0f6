/*
 * `fewshot cache stats|prune|clear`: look after the LLM response cache.
 */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

void cli_cache_usage(FILE *out)
{
    fprintf(out,
            "usage: fewshot cache stats [--cache FILE] [--json]\n"
            "       fewshot cache prune [--cache FILE] [--older-than AGE] [--max-entries N]\n"
            "       fewshot cache clear [--cache FILE]\n"
            "\n"
            "FILE defaults to $XDG_CACHE_HOME/fewshot/llm.sqlite (~/.cache/fewshot/llm.sqlite).\n"
            "AGE is a number with a unit: s, m, h or d (e.g. 30d). prune removes entries stored\n"
            "longer ago than AGE, then the least recently used beyond N. See fewshot-cache(1).\n");
}

static const struct option long_options[] = {
    {"cache", required_argument, NULL, 'c'},
    {"older-than", required_argument, NULL, 'o'},
    {"max-entries", required_argument, NULL, 'n'},
    {"json", no_argument, NULL, 'j'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int parse_age(const char *text, double *seconds)
{
    char *end;
    double v = strtod(text, &end);
    double unit = 0;
    if (end != text && v >= 0 && isfinite(v)) {
        if (strcmp(end, "s") == 0 || *end == '\0')
            unit = 1;
        else if (strcmp(end, "m") == 0)
            unit = 60;
        else if (strcmp(end, "h") == 0)
            unit = 3600;
        else if (strcmp(end, "d") == 0)
            unit = 86400;
    }
    if (unit == 0)
        return cli_usage_error("--older-than: expected an age such as 3600s, 12h or 30d, got "
                               "'%s'", text);
    *seconds = v * unit;
    return 0;
}

static void print_time(const char *label, double t)
{
    char buf[64] = "-";
    if (t > 0) {
        time_t s = (time_t)t;
        struct tm tm;
        gmtime_r(&s, &tm);
        strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    }
    printf("%-18s %s\n", label, buf);
}

int cli_cache(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        cli_cache_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "stats") != 0 && strcmp(sub, "prune") != 0 && strcmp(sub, "clear") != 0)
        return cli_usage_error("cache: unknown subcommand '%s' (stats, prune, clear)", sub);
    const char *path = NULL;
    double age = -1;
    uint64_t max_entries = 0;
    int json = 0, c;
    optind = 1;
    opterr = 0;
    argc--;
    argv++;
    while ((c = getopt_long(argc, argv, "c:h", long_options, NULL)) != -1) {
        switch (c) {
        case 'c': path = optarg; break;
        case 'o':
            if (parse_age(optarg, &age))
                return EXIT_USAGE;
            break;
        case 'n':
            if (cli_parse_u64(optarg, "--max-entries", &max_entries))
                return EXIT_USAGE;
            break;
        case 'j': json = 1; break;
        case 'h': cli_cache_usage(stdout); return EXIT_OK;
        default:
            return cli_usage_error("cache %s: unknown or incomplete option '%s'", sub,
                                   argv[optind - 1]);
        }
    }
    if (optind < argc)
        return cli_usage_error("cache %s: unexpected argument '%s'", sub, argv[optind]);
    if (strcmp(sub, "prune") == 0 && age < 0 && max_entries == 0)
        return cli_usage_error("cache prune: give --older-than AGE and/or --max-entries N");
    if (strcmp(sub, "prune") != 0 && (age >= 0 || max_entries))
        return cli_usage_error("cache %s: --older-than and --max-entries belong to prune", sub);
    if (strcmp(sub, "stats") != 0 && json)
        return cli_usage_error("cache %s: --json belongs to stats", sub);

    fewshot_cache *cache;
    if (fewshot_cache_open(&cache, path, NULL) != 0) {
        cli_error_last();
        return EXIT_FAILED;
    }
    int rc = EXIT_OK;
    if (strcmp(sub, "stats") == 0) {
        fewshot_cache_stats st;
        json_t *models = NULL;
        if (fewshot_cache_get_stats(cache, &st) != 0 || fewshot_cache_models(cache, &models) != 0) {
            cli_error_last();
            rc = EXIT_FAILED;
        } else if (json) {
            json_t *doc = json_pack("{s:s,s:I,s:I,s:I,s:I,s:I,s:I,s:f,s:f,s:O}",
                "path", fewshot_cache_path(cache), "entries", (json_int_t)st.entries,
                "hits", (json_int_t)st.hits, "bytes", (json_int_t)st.bytes,
                "file_bytes", (json_int_t)st.file_bytes,
                "prompt_tokens", (json_int_t)st.prompt_tokens,
                "completion_tokens", (json_int_t)st.completion_tokens,
                "oldest", st.oldest, "newest", st.newest, "models", models);
            char *s = json_dumps(doc, JSON_INDENT(2));
            printf("%s\n", s);
            free(s);
            json_decref(doc);
        } else {
            printf("%-18s %s\n", "path", fewshot_cache_path(cache));
            printf("%-18s %llu\n", "entries", (unsigned long long)st.entries);
            printf("%-18s %llu\n", "hits", (unsigned long long)st.hits);
            printf("%-18s %llu\n", "reply bytes", (unsigned long long)st.bytes);
            printf("%-18s %llu\n", "file bytes", (unsigned long long)st.file_bytes);
            printf("%-18s %llu\n", "prompt tokens", (unsigned long long)st.prompt_tokens);
            printf("%-18s %llu\n", "completion tokens", (unsigned long long)st.completion_tokens);
            print_time("oldest", st.oldest);
            print_time("newest", st.newest);
            size_t i;
            json_t *m;
            json_array_foreach(models, i, m)
                printf("model %s %s: %lld entries, %lld hits\n",
                       json_string_value(json_object_get(m, "model")),
                       json_string_value(json_object_get(m, "endpoint")),
                       (long long)json_integer_value(json_object_get(m, "entries")),
                       (long long)json_integer_value(json_object_get(m, "hits")));
        }
        json_decref(models);
    } else {
        uint64_t removed = 0;
        int r;
        if (strcmp(sub, "clear") == 0) {
            r = fewshot_cache_clear(cache, &removed);
        } else {
            double before = age >= 0 ? (double)time(NULL) - age : 0;
            if (age == 0)
                before = (double)time(NULL) + 1;
            r = fewshot_cache_prune(cache, before, max_entries, &removed);
        }
        if (r) {
            cli_error_last();
            rc = EXIT_FAILED;
        } else {
            printf("removed %llu entries from %s\n", (unsigned long long)removed,
                   fewshot_cache_path(cache));
        }
    }
    fewshot_cache_free(cache);
    return rc;
}
