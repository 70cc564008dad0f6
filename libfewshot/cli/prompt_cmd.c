/*
 * `fewshot prompt`: print exactly what an arm of a config would send to the LLM.
 */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_prompt_usage(FILE *out)
{
    fprintf(out,
            "usage: fewshot prompt CONFIG [--arm A] [--step N] [--scenario S] [--json]\n"
            "                      [--set key.path=value ...]\n"
            "\n"
            "Prints the prompt arm A (default: the first LLM arm) would send at step N\n"
            "(default 0) of its episode on scenario S (default: the first) with the first\n"
            "seed. Earlier steps are taken by the plugin's expert (zero when it has none) and\n"
            "recorded as the agent would, so history demonstrations are filled. No LLM is\n"
            "asked. A completion prompt is printed as is; chat messages each follow a line\n"
            "`### ROLE`. --json prints the messages (or prompt) as sent, with the chosen\n"
            "demonstrations and token estimates.\n");
}

int cli_prompt(int argc, char **argv)
{
    static const struct option prompt_options[] = {
        {"arm", required_argument, NULL, 'a'},
        {"step", required_argument, NULL, 'n'},
        {"scenario", required_argument, NULL, 'S'},
        {"json", no_argument, NULL, 'J'},
        {"set", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *arm = NULL, *scenario = NULL;
    char **sets = calloc((size_t)argc + 1, sizeof *sets);
    size_t n_sets = 0;
    uint64_t step = 0;
    int c, as_json = 0, status = EXIT_OK;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", prompt_options, NULL)) != -1) {
        switch (c) {
        case 'a': arm = optarg; break;
        case 'S': scenario = optarg; break;
        case 'J': as_json = 1; break;
        case 's': sets[n_sets++] = optarg; break;
        case 'n':
            if (cli_parse_u64(optarg, "--step", &step) || step > 10000000) {
                free(sets);
                return EXIT_USAGE;
            }
            break;
        case 'h':
            cli_prompt_usage(stdout);
            free(sets);
            return EXIT_OK;
        default:
            free(sets);
            return cli_usage_error("prompt: unknown option or missing value '%s'",
                                   argv[optind - 1]);
        }
    }
    if (optind != argc - 1) {
        free(sets);
        return cli_usage_error("prompt: expected one CONFIG");
    }
    fewshot_config *cfg;
    status = cli_load_config(argv[optind], sets, n_sets, &cfg);
    free(sets);
    if (status)
        return status;
    json_t *out = NULL;
    int rc = fewshot_sweep_prompt(cfg, arm, scenario, (unsigned int)step, &out);
    if (rc) {
        cli_error_last();
        status = cli_exit_for(rc);
    } else if (as_json) {
        json_t *sent = json_object_get(out, "messages");
        json_t *doc = json_pack("{s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O}", "arm",
                                json_object_get(out, "arm"), "scenario",
                                json_object_get(out, "scenario"), "seed",
                                json_object_get(out, "seed"), "step", json_object_get(out, "step"),
                                "style", json_object_get(out, "style"),
                                sent ? "messages" : "prompt",
                                sent ? sent : json_object_get(out, "text"),
                                "tokens", json_object_get(out, "tokens"),
                                "demos", json_object_get(out, "demos"));
        /* how well the demonstrations fit (fewshot-selection(7)), when measured */
        static const char *const measures[] = {"demos_distinct", "demos_agreement",
                                               "demos_distance"};
        for (size_t k = 0; k < sizeof measures / sizeof measures[0]; k++)
            if (json_object_get(out, measures[k]))
                json_object_set(doc, measures[k], json_object_get(out, measures[k]));
        json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER);
        fputc('\n', stdout);
        json_decref(doc);
    } else if (json_object_get(out, "messages")) {
        size_t i;
        json_t *m;
        json_array_foreach(json_object_get(out, "messages"), i, m)
            printf("%s### %s\n%s\n", i ? "\n" : "",
                   json_string_value(json_object_get(m, "role")),
                   json_string_value(json_object_get(m, "content")));
    } else {
        fputs(json_string_value(json_object_get(out, "text")), stdout);
    }
    json_decref(out);
    fewshot_config_free(cfg);
    return status;
}
