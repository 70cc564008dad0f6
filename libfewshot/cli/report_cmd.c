/*
 * `fewshot report`: summary.csv, the table and the plots of a run directory.
 */
#include "config.h"

#include <getopt.h>
#include <string.h>

#include "cli.h"

void cli_report_usage(FILE *out)
{
    fprintf(out,
            "usage: fewshot report RUN_DIR [--episodes | --steps] [--no-plots]\n"
            "\n"
            "Writes RUN_DIR/summary.csv (one row per arm and scenario: mean episode reward\n"
            "with its 95%% confidence interval, reward terms, LLM calls, tokens, cost, parse\n"
            "failure rate, cache hits, and the difference to the reference arm paired by\n"
            "scenario and seed), prints it as a table, and writes gnuplot data and scripts\n"
            "(rendered to SVG when gnuplot is installed).\n"
            "  --episodes   print one CSV row per episode instead\n"
            "  --steps      print every step as a line of JSON instead\n"
            "  --no-plots   skip the plots\n");
}

int cli_report(int argc, char **argv)
{
    static const struct option report_options[] = {
        {"episodes", no_argument, NULL, 'e'},
        {"steps", no_argument, NULL, 's'},
        {"no-plots", no_argument, NULL, 'P'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int c, episodes = 0, steps = 0, plots = 1;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", report_options, NULL)) != -1) {
        switch (c) {
        case 'e': episodes = 1; break;
        case 's': steps = 1; break;
        case 'P': plots = 0; break;
        case 'h': cli_report_usage(stdout); return EXIT_OK;
        default:
            return cli_usage_error("report: unknown option '%s'", argv[optind - 1]);
        }
    }
    if (optind != argc - 1)
        return cli_usage_error("report: expected one RUN_DIR");
    int rc;
    if (episodes && steps)
        return cli_usage_error("report: --episodes and --steps exclude each other");
    if (steps) {
        rc = fewshot_report_steps(argv[optind], stdout);
    } else if (episodes) {
        rc = fewshot_report_episodes(argv[optind], stdout);
    } else {
        fewshot_report_options opts = FEWSHOT_REPORT_OPTIONS_INIT;
        opts.table = stdout;
        opts.plots = plots;
        rc = fewshot_report_run(argv[optind], &opts);
    }
    if (rc) {
        cli_error_last();
        return cli_exit_for(rc);
    }
    return EXIT_OK;
}
