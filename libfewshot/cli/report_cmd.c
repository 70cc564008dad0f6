/*
 * `fewshot report`: summary.csv, the table and the plots of a run directory.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

void cli_report_usage(FILE *out)
{
    fprintf(out,
            "usage: fewshot report RUN_DIR [--format table|csv|markdown|latex|json] [--wide]\n"
            "                      [-o DIR] [--trace ARM,SCENARIO,SEED] [--set report.KEY=VALUE]\n"
            "                      [--episodes | --steps] [--no-plots]\n"
            "\n"
            "Writes summary.csv (one row per arm and scenario, plus `all` rows: mean episode\n"
            "reward with its 95%% confidence interval, reward terms, LLM calls, tokens, cost,\n"
            "parse failure rate, cache hits, the paired difference to the reference arm, and\n"
            "robust statistics: IQM, normalized scores and the probability of improvement\n"
            "with stratified bootstrap 95%% CIs), prints it, and writes gnuplot data and\n"
            "scripts (rendered to SVG when gnuplot is installed). RUN_DIR is only read.\n"
            "  --format F     how the table is printed (default table)\n"
            "  --wide         every column (the default table fits 100 columns)\n"
            "  -o DIR         write summary.csv and plots into DIR (default RUN_DIR)\n"
            "  --trace A,S,N  plot the episode of arm A, scenario S, seed N\n"
            "  --set K=V      change a report.* setting (score_zero, score_one, bootstrap, seed)\n"
            "  --episodes     print one CSV row per episode instead (with reward terms)\n"
            "  --steps        print every step as a line of JSON instead\n"
            "  --no-plots     skip the plots\n");
}

static int parse_format(const char *s, fewshot_report_format *out)
{
    static const char *const names[] = {"table", "csv", "markdown", "latex", "json"};
    for (int i = 0; i < 5; i++) {
        if (strcmp(s, names[i]) == 0) {
            *out = (fewshot_report_format)i;
            return 0;
        }
    }
    return -1;
}

/* ARM,SCENARIO,SEED split at the last two commas, so an arm name may hold commas. */
static int parse_trace(char *spec, fewshot_report_options *opts)
{
    char *c2 = strrchr(spec, ',');
    if (!c2)
        return -1;
    *c2 = '\0';
    char *c1 = strrchr(spec, ',');
    if (!c1 || c1 == spec || c1[1] == '\0' || c2[1] == '\0')
        return -1;
    *c1 = '\0';
    char *end;
    errno = 0;
    long long seed = strtoll(c2 + 1, &end, 10);
    if (errno || *end)
        return -1;
    opts->trace_arm = spec;
    opts->trace_scenario = c1 + 1;
    opts->trace_seed = seed;
    return 0;
}

int cli_report(int argc, char **argv)
{
    static const struct option report_options[] = {
        {"episodes", no_argument, NULL, 'e'},
        {"steps", no_argument, NULL, 'S'},
        {"no-plots", no_argument, NULL, 'P'},
        {"format", required_argument, NULL, 'f'},
        {"wide", no_argument, NULL, 'w'},
        {"output", required_argument, NULL, 'o'},
        {"trace", required_argument, NULL, 't'},
        {"set", required_argument, NULL, 's'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    fewshot_report_options opts = FEWSHOT_REPORT_OPTIONS_INIT;
    const char **set = calloc((size_t)argc + 1, sizeof *set);
    size_t n_set = 0;
    char *trace = NULL;
    int c, episodes = 0, steps = 0, status = EXIT_OK;
    if (!set)
        return cli_usage_error("report: out of memory");
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "ho:f:", report_options, NULL)) != -1) {
        switch (c) {
        case 'e': episodes = 1; break;
        case 'S': steps = 1; break;
        case 'P': opts.plots = 0; break;
        case 'w': opts.wide = 1; break;
        case 'o': opts.out_dir = optarg; break;
        case 's': set[n_set++] = optarg; break;
        case 'f':
            if (parse_format(optarg, &opts.format) != 0) {
                free(set);
                return cli_usage_error("report: --format %s: expected table, csv, markdown, "
                                       "latex or json", optarg);
            }
            break;
        case 't':
            free(trace);
            trace = strdup(optarg);
            if (!trace || parse_trace(trace, &opts) != 0) {
                free(trace);
                free(set);
                return cli_usage_error("report: --trace %s: expected ARM,SCENARIO,SEED (SEED "
                                       "an integer)", optarg);
            }
            break;
        case 'h':
            cli_report_usage(stdout);
            free(set);
            return EXIT_OK;
        default:
            free(trace);
            free(set);
            return cli_usage_error("report: unknown option or missing value '%s'",
                                   argv[optind - 1]);
        }
    }
    if (optind != argc - 1) {
        free(trace);
        free(set);
        return cli_usage_error("report: expected one RUN_DIR");
    }
    int rc;
    if (episodes && steps) {
        free(trace);
        free(set);
        return cli_usage_error("report: --episodes and --steps exclude each other");
    }
    if (steps) {
        rc = fewshot_report_steps(argv[optind], stdout);
    } else if (episodes) {
        rc = fewshot_report_episodes(argv[optind], stdout);
    } else {
        opts.table = stdout;
        opts.set = n_set ? set : NULL;
        rc = fewshot_report_run(argv[optind], &opts);
    }
    if (rc) {
        cli_error_last();
        status = cli_exit_for(rc);
    }
    free(trace);
    free(set);
    return status;
}
