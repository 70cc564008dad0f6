/*
 * `fewshot env list|info|rollout`: inspect plugins and run one episode with a simple policy.
 */
#include "config.h"

#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_env_usage(FILE *out)
{
    fprintf(out,
            "usage: fewshot env list\n"
            "       fewshot env info NAME [-p key=value ...]\n"
            "       fewshot env rollout NAME [-p key=value ...] --policy POLICY\n"
            "                           [--steps N] [--seed S] [--format csv|jsonl]\n"
            "       fewshot env import-energyplus FILE.table.htm [-t TYPE] [-n NAME]\n"
            "                           -o building.json\n"
            "\n"
            "POLICY is zero, random, expert, const:V, const:V1,V2,..., file:ACTIONS.csv,\n"
            "mlp:POLICY.json (a network, e.g. from python3 -m fewshot.ppo), or a policy the\n"
            "plugin names in `fewshot env info`. Rollout prints one row per step:\n"
            "step,reward,obs_0..obs_{k-1},act_0..act_{m-1} (obs is the observation after the\n"
            "step). Parameter values are parsed as JSON when they parse, as strings otherwise.\n"
            "import-energyplus writes a building file (fewshot-building(5)) from the \"Zone\n"
            "Information\" table of EnergyPlus tabular output; TYPE picks the U-values.\n");
}

static int env_list(int argc, char **argv)
{
    json_t *list;
    if (argc > 1)
        return cli_usage_error("env list: unexpected argument '%s'", argv[1]);
    if (fewshot_env_plugin_list(&list) != 0) {
        cli_error_last();
        return EXIT_FAILED;
    }
    size_t i;
    json_t *item;
    int failures = 0;
    json_array_foreach(list, i, item) {
        const char *name = json_string_value(json_object_get(item, "name"));
        const char *error = json_string_value(json_object_get(item, "error"));
        if (error) {
            fprintf(stderr, "fewshot: %s\n", error);
            failures++;
            continue;
        }
        printf("%-12s %s\n", name, json_string_value(json_object_get(item, "summary")));
    }
    if (json_array_size(list) == 0)
        fprintf(stderr, "fewshot: no environment plugins found in $FEWSHOT_PLUGIN_PATH or %s\n",
                fewshot_env_plugin_dir());
    json_decref(list);
    return failures ? EXIT_FAILED : EXIT_OK;
}

/* -p arguments shared by info and rollout. */
typedef struct env_args {
    const char *name;
    json_t *params;
    const char *policy;
    uint64_t steps, seed;
    int steps_given;
    const char *format;
} env_args;

static const struct option long_options[] = {
    {"param", required_argument, NULL, 'p'},
    {"policy", required_argument, NULL, 'P'},
    {"steps", required_argument, NULL, 'n'},
    {"seed", required_argument, NULL, 's'},
    {"format", required_argument, NULL, 'f'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

static int parse_env_args(int argc, char **argv, env_args *a, int rollout)
{
    int c;
    optind = 1;
    opterr = 0;
    a->format = "csv";
    while ((c = getopt_long(argc, argv, "p:h", long_options, NULL)) != -1) {
        switch (c) {
        case 'p':
            if (cli_parse_assignment(a->params, optarg, "-p"))
                return EXIT_USAGE;
            break;
        case 'P':
        case 'n':
        case 's':
        case 'f':
            if (!rollout)
                return cli_usage_error("env %s: %s is for env rollout", argv[0], argv[optind - 1]);
            if (c == 'P')
                a->policy = optarg;
            else if (c == 'f')
                a->format = optarg;
            else if (c == 'n') {
                if (cli_parse_u64(optarg, "--steps", &a->steps))
                    return EXIT_USAGE;
                a->steps_given = 1;
            } else if (cli_parse_u64(optarg, "--seed", &a->seed))
                return EXIT_USAGE;
            break;
        case 'h':
            cli_env_usage(stdout);
            return -1;
        default:
            if (optopt)
                return cli_usage_error("env %s: option -%c needs a value or is unknown", argv[0],
                                       optopt);
            return cli_usage_error("env %s: unknown option '%s'", argv[0], argv[optind - 1]);
        }
    }
    while (optind < argc) {
        if (a->name)
            return cli_usage_error("env %s: unexpected argument '%s'", argv[0], argv[optind]);
        a->name = argv[optind++];
    }
    if (!a->name)
        return cli_usage_error("env %s: missing environment NAME (see `fewshot env list`)",
                               argv[0]);
    if (rollout && !a->policy)
        return cli_usage_error("env rollout: --policy is required (zero, random, expert, "
                               "const:V, file:ACTIONS.csv, mlp:POLICY.json)");
    if (strcmp(a->format, "csv") != 0 && strcmp(a->format, "jsonl") != 0)
        return cli_usage_error("env rollout: --format must be csv or jsonl, not '%s'", a->format);
    return 0;
}

static void print_space(const char *title, const fewshot_space *s)
{
    printf("%s: %zu %s element%s\n", title, s->dim, s->integer ? "integer" : "real",
           s->dim == 1 ? "" : "s");
    for (size_t i = 0; i < s->dim; i++) {
        const char *name = fewshot_space_name(s, i);
        printf("  %3zu  %-28s [", i, name ? name : "");
        cli_print_double(stdout, s->low ? s->low[i] : -HUGE_VAL);
        fputs(", ", stdout);
        cli_print_double(stdout, s->high ? s->high[i] : HUGE_VAL);
        fputs("]\n", stdout);
    }
}

static void print_params_doc(const fewshot_env_plugin *plugin, const json_t *resolved)
{
    json_t *doc;
    if (fewshot_env_plugin_params_doc(plugin, &doc) != 0)
        return;
    json_t *spec = json_object_get(doc, "params");
    const char *key;
    json_t *p;
    printf("parameters:\n");
    json_object_foreach(spec, key, p) {
        json_t *value = resolved ? json_object_get(resolved, key) : NULL;
        if (!value)
            value = json_object_get(p, "default");
        char *text = value ? json_dumps(value, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION(15)) : NULL;
        printf("  %-16s %-8s = %-20s %s\n", key,
               json_string_value(json_object_get(p, "type")) ?: "any", text ? text : "(none)",
               json_string_value(json_object_get(p, "doc")) ?: "");
        free(text);
    }
    json_t *scenarios = json_object_get(doc, "scenarios");
    if (json_array_size(scenarios)) {
        char *text = json_dumps(scenarios, JSON_COMPACT);
        printf("scenarios: %s\n", text);
        free(text);
    }
    json_decref(doc);
}

static int env_info(env_args *a)
{
    fewshot_env *env;
    if (fewshot_env_new(&env, a->name, a->params) != 0) {
        cli_error_last();
        return EXIT_USAGE;
    }
    const fewshot_env_plugin *p = fewshot_env_plugin_of(env);
    printf("name: %s\nsummary: %s\nversion: %s\nfile: %s\n", p->name, p->summary ?: "",
           p->version ?: "", fewshot_env_plugin_file(p));
    json_t *resolved = NULL;
    fewshot_env_params(env, &resolved);
    print_params_doc(p, resolved);
    json_decref(resolved);
    print_space("observation", fewshot_env_obs_space(env));
    print_space("action", fewshot_env_act_space(env));
    const char *const *policies = fewshot_env_policies(env);
    printf("policies: zero random const:V file:ACTIONS.csv mlp:POLICY.json");
    if (policies[0])
        printf(" expert(=%s)", policies[0]);
    for (size_t i = 0; policies[i]; i++)
        printf(" %s", policies[i]);
    printf("\n");
    const char *const *terms = fewshot_env_term_names(env, NULL);
    if (terms[0]) {
        printf("reward terms:");
        for (size_t i = 0; terms[i]; i++)
            printf(" %s", terms[i]);
        printf("\n");
    }
    const char *const *features = fewshot_env_feature_names(env, NULL);
    if (features[0]) {
        printf("features:");
        for (size_t i = 0; features[i]; i++)
            printf(" %s", features[i]);
        printf("\n");
    }
    fewshot_env_free(env);
    return EXIT_OK;
}

static void print_header(const fewshot_space *obs, const fewshot_space *act)
{
    printf("step,reward");
    for (size_t i = 0; i < obs->dim; i++)
        printf(",obs_%zu", i);
    for (size_t i = 0; i < act->dim; i++)
        printf(",act_%zu", i);
    printf("\n");
}

static void print_values(const double *v, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        putchar(',');
        cli_print_double(stdout, v[i]);
    }
}

static json_t *doubles_json(const double *v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_real(v[i]));
    return a;
}

static void print_row(const env_args *a, uint64_t t, const fewshot_step *st, size_t obs_dim,
                      const double *action, size_t act_dim)
{
    if (strcmp(a->format, "csv") == 0) {
        printf("%llu,", (unsigned long long)t);
        cli_print_double(stdout, st->reward);
        print_values(st->obs, obs_dim);
        print_values(action, act_dim);
        putchar('\n');
        return;
    }
    json_t *row = json_pack("{s:I, s:f, s:o, s:o, s:O?, s:b, s:b}", "step", (json_int_t)t,
                            "reward", st->reward, "obs", doubles_json(st->obs, obs_dim),
                            "action", doubles_json(action, act_dim), "terms", st->terms,
                            "done", st->done, "truncated", st->truncated);
    char *text = json_dumps(row, JSON_COMPACT | JSON_REAL_PRECISION(17));
    puts(text);
    free(text);
    json_decref(row);
}

static int env_rollout(env_args *a)
{
    fewshot_env *env = NULL;
    fewshot_policy *policy = NULL;
    double *obs = NULL, *action = NULL;
    int status = EXIT_OK;

    if (fewshot_env_new(&env, a->name, a->params) != 0) {
        cli_error_last();
        return EXIT_USAGE;
    }
    const fewshot_space *os = fewshot_env_obs_space(env), *as = fewshot_env_act_space(env);
    if (fewshot_policy_new(&policy, env, a->policy, a->seed) != 0) {
        cli_error_last();
        status = EXIT_USAGE;
        goto done;
    }
    obs = calloc(os->dim, sizeof *obs);
    action = calloc(as->dim, sizeof *action);
    if (fewshot_env_reset(env, a->seed, NULL, obs) != 0) {
        cli_error_last();
        status = EXIT_FAILED;
        goto done;
    }
    if (strcmp(a->format, "csv") == 0)
        print_header(os, as);
    for (uint64_t t = 1; !a->steps_given || t <= a->steps; t++) {
        fewshot_step st = {.obs = obs};
        if (fewshot_policy_act(policy, obs, action) != 0 ||
            fewshot_env_step(env, action, &st) != 0) {
            fewshot_error_prefix("step %llu", (unsigned long long)t);
            cli_error_last();
            status = EXIT_FAILED;
            break;
        }
        print_row(a, t, &st, os->dim, action, as->dim);
        json_decref(st.terms);
        if (st.done || st.truncated)
            break;
    }
done:
    fflush(stdout);
    free(obs);
    free(action);
    fewshot_policy_free(policy);
    fewshot_env_free(env);
    return status;
}

int cli_env(int argc, char **argv)
{
    if (argc < 2 || cli_is_help(argv[1])) {
        cli_env_usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? EXIT_USAGE : EXIT_OK;
    }
    const char *sub = argv[1];
    if (strcmp(sub, "list") == 0)
        return env_list(argc - 1, argv + 1);
    if (strcmp(sub, "import-energyplus") == 0)
        return cli_env_import(argc - 1, argv + 1);
    int is_info = strcmp(sub, "info") == 0, is_rollout = strcmp(sub, "rollout") == 0;
    if (!is_info && !is_rollout)
        return cli_usage_error("env: unknown subcommand '%s' (list, info, rollout, import-energyplus)", sub);
    env_args a = {.params = json_object()};
    int rc = parse_env_args(argc - 1, argv + 1, &a, is_rollout);
    if (rc == 0)
        rc = is_info ? env_info(&a) : env_rollout(&a);
    else if (rc < 0)
        rc = EXIT_OK;
    json_decref(a.params);
    return rc;
}
