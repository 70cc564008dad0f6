/*
 * `fewshot demos generate|info|path|list`: make demonstration datasets from a policy,
 * summarize them, and find them in the shared store.
 */
#include "config.h"

#include <dirent.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

void cli_demos_usage(FILE *out)
{
    fprintf(out,
            "usage: fewshot demos generate ENV [-p key=value ...] [--policy POLICY]\n"
            "                      [--episodes N] [--steps T] [--seed S] [--days DAYS]\n"
            "                      [--scenarios JSON] [--jobs N] [--append] [--no-features]\n"
            "                      -o FILE\n"
            "       fewshot demos generate CONFIG.json [--arm A] [-o FILE]\n"
            "       fewshot demos info FILE\n"
            "       fewshot demos path [CONFIG.json [--arm A]]\n"
            "       fewshot demos list\n"
            "       fewshot demos clear\n"
            "\n"
            "generate runs POLICY (default expert) for N episodes (default 1) of at most T steps\n"
            "(default: until the episode ends) with seeds S, S+1, ... and writes the transitions\n"
            "as JSONL (fewshot-demos(5)); --append adds them to an existing FILE of the same\n"
            "plugin, so one file can hold several scenarios. info prints `transitions: N`, then\n"
            "episodes, scenarios and reward statistics. With a sweep config (a .json file)\n"
            "generate writes the demonstrations of its demos section (fewshot-config(5)) to\n"
            "the shared store and prints where; -o also writes them to FILE. DAYS is all,\n"
            "every:N, a list 15,60,... or JSON; --scenarios takes a list of parameter objects\n"
            "or {\"grid\": {...}} (fewshot-demos(5)). path prints the store's\n"
            "directory, or the stored dataset of a config; list prints the stored datasets;\n"
            "clear deletes them (they are generated again when next needed).\n");
}

static const struct option generate_options[] = {
    {"param", required_argument, NULL, 'p'},
    {"policy", required_argument, NULL, 'P'},
    {"episodes", required_argument, NULL, 'e'},
    {"steps", required_argument, NULL, 'n'},
    {"seed", required_argument, NULL, 's'},
    {"output", required_argument, NULL, 'o'},
    {"append", no_argument, NULL, 'a'},
    {"no-features", no_argument, NULL, 'F'},
    {"days", required_argument, NULL, 'd'},
    {"scenarios", required_argument, NULL, 'S'},
    {"jobs", required_argument, NULL, 'j'},
    {"arm", required_argument, NULL, 'A'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* --days: all, every:N[:FROM:TO], a comma list of days, or JSON (checked by the generator). */
static json_t *days_arg(const char *text)
{
    json_error_t err;
    if (strcmp(text, "all") == 0)
        return json_string("all");
    if (strncmp(text, "every:", 6) == 0) {
        unsigned long every = 0, from = 1, to = 365;
        int n = sscanf(text + 6, "%lu:%lu:%lu", &every, &from, &to);
        if (n == 1 || n == 3)
            return json_pack("{s:I, s:I, s:I}", "every", (json_int_t)every, "from",
                             (json_int_t)from, "to", (json_int_t)to);
    } else if (text[0] >= '0' && text[0] <= '9') {
        json_t *list = json_array();
        const char *p = text;
        while (*p) {
            char *end;
            long d = strtol(p, &end, 10);
            if (end == p || (*end && *end != ','))
                break;
            json_array_append_new(list, json_integer(d));
            p = *end ? end + 1 : end;
        }
        if (!*p)
            return list;
        json_decref(list);
    } else {
        json_t *v = json_loads(text, JSON_DECODE_ANY, &err);
        if (v)
            return v;
    }
    cli_usage_error("--days: expected all, every:N[:FROM:TO], a list such as 15,60,196 or "
                    "JSON, got '%s'", text);
    return NULL;
}

/* A config's dataset: obtained through the store; printed path, optionally written out. */
static int demos_of_config(const char *config, const char *arm, const char *output,
                           int print_path)
{
    fewshot_config *cfg;
    fewshot_demos *ds = NULL;
    char *id = NULL, *path = NULL;
    int status = cli_load_config(config, NULL, 0, &cfg);
    if (status)
        return status;
    int rc = fewshot_sweep_demos_locate(cfg, arm, &ds, &id, &path);
    if (rc == 0 && output)
        rc = fewshot_demos_save(ds, output);
    if (rc) {
        cli_error_last();
        status = cli_exit_for(rc);
    } else if (!path) {
        fprintf(stderr, "fewshot: the demonstration store could not be used (see `fewshot "
                "demos path`); the dataset (id %s) was generated but not stored\n", id);
    } else if (print_path && !(output && strcmp(output, "-") == 0)) {
        printf("%s\n", path);
    }
    free(id);
    free(path);
    fewshot_demos_free(ds);
    fewshot_config_free(cfg);
    return status;
}

static int demos_generate(int argc, char **argv)
{
    fewshot_demos_generate_options o = FEWSHOT_DEMOS_GENERATE_OPTIONS_INIT;
    json_t *params = json_object();
    const char *output = NULL;
    int append = 0, c, status = EXIT_OK;
    fewshot_demos *ds = NULL;
    json_t *days = NULL, *scenarios = NULL;
    const char *arm = NULL;
    uint64_t jobs = 0;

    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "p:o:h", generate_options, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (cli_parse_assignment(params, optarg, "-p"))
                goto usage;
            break;
        case 'P':
            o.policy = optarg;
            break;
        case 'e':
            if (cli_parse_u64(optarg, "--episodes", &o.episodes))
                goto usage;
            if (o.episodes == 0) {
                cli_usage_error("--episodes: at least 1");
                goto usage;
            }
            break;
        case 'n':
            if (cli_parse_u64(optarg, "--steps", &o.steps))
                goto usage;
            break;
        case 's':
            if (cli_parse_u64(optarg, "--seed", &o.seed))
                goto usage;
            break;
        case 'o':
            output = optarg;
            break;
        case 'a':
            append = 1;
            break;
        case 'F':
            o.no_features = 1;
            break;
        case 'd':
            json_decref(days);
            if (!(days = days_arg(optarg)))
                goto usage;
            break;
        case 'S': {
            json_error_t err;
            json_decref(scenarios);
            if (!(scenarios = json_loads(optarg, 0, &err))) {
                cli_usage_error("--scenarios: not JSON (a list of parameter objects or "
                                "{\"grid\": {...}}): %s", err.text);
                goto usage;
            }
            break;
        }
        case 'j':
            if (cli_parse_u64(optarg, "--jobs", &jobs))
                goto usage;
            o.jobs = (unsigned int)jobs;
            break;
        case 'A':
            arm = optarg;
            break;
        case 'h':
            cli_demos_usage(stdout);
            json_decref(params);
            json_decref(days);
            json_decref(scenarios);
            return EXIT_OK;
        default:
            if (optopt)
                cli_usage_error("demos generate: option -%c needs a value or is unknown", optopt);
            else
                cli_usage_error("demos generate: unknown option '%s'", argv[optind - 1]);
            goto usage;
        }
    }
    if (optind < argc)
        o.env = argv[optind++];
    if (optind < argc) {
        cli_usage_error("demos generate: unexpected argument '%s'", argv[optind]);
        goto usage;
    }
    /* `demos generate CONFIG.json [-o FILE]`: the config's demos section, into the store */
    if (o.env && strlen(o.env) > 5 && strcmp(o.env + strlen(o.env) - 5, ".json") == 0) {
        json_decref(params);
        json_decref(days);
        json_decref(scenarios);
        if (append)
            return cli_usage_error("demos generate %s: --append takes an environment, not a "
                                   "config", o.env);
        return demos_of_config(o.env, arm, output, 1);
    }
    if (!o.env || !output) {
        cli_usage_error("demos generate: %s is required", !o.env ? "ENV" : "-o FILE");
        goto usage;
    }
    o.params = params;
    o.days = days;
    o.scenarios = scenarios;
    int rc = append ? fewshot_demos_load(&ds, output) : fewshot_demos_new(&ds, NULL);
    if (rc == 0)
        rc = fewshot_demos_generate(ds, &o);
    if (rc == 0)
        rc = fewshot_demos_save(ds, output);
    if (rc) {
        cli_error_last();
        status = cli_exit_for(rc);
    }
    fewshot_demos_free(ds);
    json_decref(params);
    json_decref(days);
    json_decref(scenarios);
    return status;
usage:
    json_decref(params);
    json_decref(days);
    json_decref(scenarios);
    return EXIT_USAGE;
}

static void print_stat(const char *name, json_t *s)
{
    printf("%s: mean %.6g std %.6g min %.6g max %.6g\n", name,
           json_number_value(json_object_get(s, "mean")),
           json_number_value(json_object_get(s, "std")),
           json_number_value(json_object_get(s, "min")),
           json_number_value(json_object_get(s, "max")));
}

static int demos_info(int argc, char **argv)
{
    if (argc != 2 || cli_is_help(argv[1])) {
        if (argc == 2) {
            cli_demos_usage(stdout);
            return EXIT_OK;
        }
        return cli_usage_error("demos info: expected one FILE");
    }
    fewshot_demos *ds;
    json_t *st;
    int rc = fewshot_demos_load(&ds, argv[1]);
    if (rc == 0 && (rc = fewshot_demos_stats(ds, &st)) != 0)
        fewshot_demos_free(ds);
    if (rc) {
        cli_error_last();
        return cli_exit_for(rc);
    }
    printf("transitions: %lld\n", (long long)json_integer_value(json_object_get(st, "transitions")));
    printf("episodes: %lld\n", (long long)json_integer_value(json_object_get(st, "episodes")));
    printf("scenarios: %lld\n", (long long)json_integer_value(json_object_get(st, "scenarios")));
    printf("plugin: %s %s\n", json_string_value(json_object_get(st, "plugin")),
           json_string_value(json_object_get(st, "plugin_version")));
    printf("policy: %s\n", json_string_value(json_object_get(st, "policy")));
    printf("steps per episode: min %lld max %lld\n",
           (long long)json_integer_value(json_object_get(json_object_get(st, "steps"), "min")),
           (long long)json_integer_value(json_object_get(json_object_get(st, "steps"), "max")));
    print_stat("reward", json_object_get(st, "reward"));
    print_stat("episode return", json_object_get(st, "episode_return"));
    printf("features: %lld\n", (long long)json_integer_value(json_object_get(st, "features_dim")));
    const char *key;
    json_t *v;
    json_object_foreach(json_object_get(st, "sources"), key, v)
        printf("source %s: %lld\n", key, (long long)json_integer_value(v));
    json_decref(st);
    fewshot_demos_free(ds);
    return EXIT_OK;
}

static int demos_path(int argc, char **argv)
{
    const char *config = NULL, *arm = NULL;
    for (int i = 1; i < argc; i++) {
        if (cli_is_help(argv[i])) {
            cli_demos_usage(stdout);
            return EXIT_OK;
        } else if (strcmp(argv[i], "--arm") == 0 && i + 1 < argc) {
            arm = argv[++i];
        } else if (!config && argv[i][0] != '-') {
            config = argv[i];
        } else {
            return cli_usage_error("demos path: unexpected argument '%s'", argv[i]);
        }
    }
    if (config)
        return demos_of_config(config, arm, NULL, 1);
    if (arm)
        return cli_usage_error("demos path: --arm needs a CONFIG");
    char *dir;
    int rc = fewshot_demos_store_dir(&dir);
    if (rc) {
        cli_error_last();
        return cli_exit_for(rc);
    }
    printf("%s\n", dir);
    free(dir);
    return EXIT_OK;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The shared start of `demos list` and `demos clear`: no arguments but --help, then the
 * store's directory. Returns an exit status to end with, or -1 with *dir set (to free). */
static int store_command(const char *name, int argc, char **argv, char **dir)
{
    if (argc > 1) {
        if (cli_is_help(argv[1])) {
            cli_demos_usage(stdout);
            return EXIT_OK;
        }
        return cli_usage_error("demos %s: no arguments expected", name);
    }
    int rc = fewshot_demos_store_dir(dir);
    if (rc) {
        cli_error_last();
        return cli_exit_for(rc);
    }
    return -1;
}

/* One line per stored dataset: its file, size, and what the header says. */
static int demos_list(int argc, char **argv)
{
    char *dir;
    int status = store_command("list", argc, argv, &dir);
    if (status >= 0)
        return status;
    DIR *d = opendir(dir);
    struct dirent *e;
    char **names = NULL;
    size_t n = 0;
    while (d && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len > 5 && strcmp(e->d_name + len - 5, ".fsdb") == 0) {
            char **more = realloc(names, (n + 1) * sizeof *names);
            if (!more)
                break;
            names = more;
            names[n++] = strdup(e->d_name);
        }
    }
    if (d)
        closedir(d);
    qsort(names, n, sizeof *names, by_name);
    for (size_t i = 0; i < n; i++) {
        char *full = malloc(strlen(dir) + strlen(names[i]) + 2);
        struct stat sb;
        sprintf(full, "%s/%s", dir, names[i]);
        json_t *h = NULL;
        if (stat(full, &sb) == 0 && fewshot_demos_load_header(full, &h) == 0)
            printf("%s\t%lld bytes\t%s %s\t%lld transitions\tpolicy %s\n", full,
                   (long long)sb.st_size,
                   json_string_value(json_object_get(h, "plugin")) ?: "?",
                   json_string_value(json_object_get(h, "plugin_version")) ?: "",
                   (long long)json_integer_value(json_object_get(h, "transitions")),
                   json_string_value(json_object_get(h, "policy")) ?: "?");
        else if (stat(full, &sb) == 0)
            printf("%s\t%lld bytes\tunreadable\n", full, (long long)sb.st_size);
        json_decref(h);
        free(full);
        free(names[i]);
    }
    free(names);
    free(dir);
    return EXIT_OK;
}

/* Delete the store's datasets, locks and leftover temporary files. */
static int demos_clear(int argc, char **argv)
{
    char *dir;
    int status = store_command("clear", argc, argv, &dir);
    if (status >= 0)
        return status;
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t removed = 0;
    int failed = 0;
    while (d && (e = readdir(d))) {
        size_t len = strlen(e->d_name);
        int ours = (len > 5 && strcmp(e->d_name + len - 5, ".fsdb") == 0) ||
                   (len > 5 && strcmp(e->d_name + len - 5, ".lock") == 0) ||
                   strncmp(e->d_name, ".tmp-", 5) == 0;
        if (!ours)
            continue;
        char *full = malloc(strlen(dir) + len + 2);
        sprintf(full, "%s/%s", dir, e->d_name);
        if (remove(full) == 0)
            removed += len > 5 && strcmp(e->d_name + len - 5, ".fsdb") == 0;
        else
            failed = 1, fprintf(stderr, "fewshot: cannot remove %s\n", full);
        free(full);
    }
    if (d)
        closedir(d);
    fprintf(stderr, "fewshot: removed %zu stored datasets from %s\n", removed, dir);
    free(dir);
    return failed ? EXIT_FAILED : EXIT_OK;
}

int cli_demos(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        cli_demos_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    if (strcmp(argv[1], "generate") == 0)
        return demos_generate(argc - 1, argv + 1);
    if (strcmp(argv[1], "info") == 0)
        return demos_info(argc - 1, argv + 1);
    if (strcmp(argv[1], "path") == 0)
        return demos_path(argc - 1, argv + 1);
    if (strcmp(argv[1], "list") == 0)
        return demos_list(argc - 1, argv + 1);
    if (strcmp(argv[1], "clear") == 0)
        return demos_clear(argc - 1, argv + 1);
    return cli_usage_error("demos: unknown subcommand '%s' (generate, info, path, list, "
                           "clear)", argv[1]);
}
