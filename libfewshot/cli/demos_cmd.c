/*
 * `fewshot demos generate|info`: make demonstration datasets from a policy and summarize them.
 */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_demos_usage(FILE *out)
{
    fprintf(out,
            "usage: fewshot demos generate ENV [-p key=value ...] [--policy POLICY]\n"
            "                      [--episodes N] [--steps T] [--seed S] [--append]\n"
            "                      [--no-features] -o FILE\n"
            "       fewshot demos generate CONFIG.json -o FILE\n"
            "       fewshot demos info FILE\n"
            "\n"
            "generate runs POLICY (default expert) for N episodes (default 1) of at most T steps\n"
            "(default: until the episode ends) with seeds S, S+1, ... and writes the transitions\n"
            "as JSONL (fewshot-demos(5)); --append adds them to an existing FILE of the same\n"
            "plugin, so one file can hold several scenarios. info prints `transitions: N`, then\n"
            "episodes, scenarios and reward statistics. With a sweep config (a .json file)\n"
            "generate writes the demonstrations of its demos section (fewshot-config(5)).\n");
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
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int demos_generate(int argc, char **argv)
{
    fewshot_demos_generate_options o = FEWSHOT_DEMOS_GENERATE_OPTIONS_INIT;
    json_t *params = json_object();
    const char *output = NULL;
    int append = 0, c, status = EXIT_OK;
    fewshot_demos *ds = NULL;

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
        case 'h':
            cli_demos_usage(stdout);
            json_decref(params);
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
    if (!o.env || !output) {
        cli_usage_error("demos generate: %s is required", !o.env ? "ENV" : "-o FILE");
        goto usage;
    }
    /* `demos generate CONFIG.json -o FILE`: the config's demos section (sweep_cmd.c) */
    if (strlen(o.env) > 5 && strcmp(o.env + strlen(o.env) - 5, ".json") == 0) {
        json_decref(params);
        return cli_demos_from_config(o.env, output, append);
    }
    o.params = params;
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
    return status;
usage:
    json_decref(params);
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
    return cli_usage_error("demos: unknown subcommand '%s' (generate, info)", argv[1]);
}
