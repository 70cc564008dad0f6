/*
 * `fewshot sweep` and `fewshot merge`: run (or resume) an ablation sweep from a config, and
 * combine the run directories of its shards.
 */
#include "config.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

void cli_sweep_usage(FILE *out)
{
    fprintf(out,
            "usage: fewshot sweep CONFIG [-o RUN_DIR] [--shard I/N] [--jobs N] [--dry-run]\n"
            "                     [--set key.path=value ...] [--no-report]\n"
            "\n"
            "Runs every arm x scenario x seed episode of CONFIG (see fewshot-config(5)),\n"
            "stores them in RUN_DIR/results.sqlite and prints the report. Rerunning on the\n"
            "same RUN_DIR resumes; a RUN_DIR made by another config is refused. RUN_DIR\n"
            "defaults to runs/NAME (the config's name, or its file name without .json).\n"
            "  --shard I/N    run the I-th of N deterministic parts (merge them with\n"
            "                 `fewshot merge`)\n"
            "  --jobs N       episodes in flight at once (default: llm.concurrency, or 16)\n"
            "  --dry-run      print the arms, scenarios, seeds and episode count; run nothing\n"
            "  --set K=V      override a config value (V is JSON when it parses)\n"
            "  --no-report    do not print the report at the end\n"
            "Arms that need an LLM when none is configured are skipped with the reason.\n"
            "Exit status: 0 all episodes finished, 1 some failed, 2 usage or config error.\n");
}

void cli_merge_usage(FILE *out)
{
    fprintf(out,
            "usage: fewshot merge RUN_DIR... -o RUN_DIR\n"
            "\n"
            "Combines the run directories of the shards of one sweep into one (created when\n"
            "missing) and prints its report. Directories made by different configs are\n"
            "refused. Resume the merged directory with `fewshot sweep CONFIG -o RUN_DIR` to\n"
            "run what no shard finished.\n");
}

static int parse_shard(const char *text, unsigned int *index, unsigned int *count)
{
    char *end;
    unsigned long i = strtoul(text, &end, 10);
    if (end == text || *end != '/')
        return cli_usage_error("--shard %s: expected I/N, e.g. 2/8", text);
    const char *rest = end + 1;
    unsigned long n = strtoul(rest, &end, 10);
    if (end == rest || *end || n == 0 || i == 0 || i > n || n > 1000000)
        return cli_usage_error("--shard %s: expected I/N with 1 <= I <= N", text);
    *index = (unsigned int)i;
    *count = (unsigned int)n;
    return 0;
}

/* runs/NAME: the config's name, or its file name without directory and .json. */
static char *default_run_dir(const fewshot_config *cfg, const char *path)
{
    const char *name = json_string_value(json_object_get(fewshot_config_json(cfg), "name"));
    char base[256];
    if (!name) {
        const char *slash = strrchr(path, '/');
        snprintf(base, sizeof base, "%s", slash ? slash + 1 : path);
        char *dot = strrchr(base, '.');
        if (dot && strcmp(dot, ".json") == 0)
            *dot = '\0';
        name = base;
    }
    char *out = malloc(strlen(name) + 8);
    sprintf(out, "runs/%s", name);
    for (char *p = out + 5; *p; p++)
        if (*p == '/' || *p == ' ')
            *p = '_';
    return out;
}

/* SIGINT, SIGTERM, SIGHUP: the first asks the sweep to stop cleanly (finished episodes are
 * committed already; those in flight are dropped), a second one ends the process at once. */
static volatile int stop_signal;

static void on_stop_signal(int sig)
{
    if (stop_signal) {
        signal(sig, SIG_DFL);
        raise(sig);
        return;
    }
    stop_signal = sig;
}

static void catch_stop_signals(int on)
{
    static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on ? on_stop_signal : SIG_DFL;
    sigemptyset(&sa.sa_mask);
    static int ignored[3];      /* nohup(1), or a background job: leave those alone */
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++) {
        struct sigaction old;
        if (on && sigaction(sigs[i], NULL, &old) == 0)
            ignored[i] = old.sa_handler == SIG_IGN;
        if (!ignored[i])
            sigaction(sigs[i], &sa, NULL);
    }
}

/* The command line again, quoted for a POSIX shell, to say how to resume. */
static void print_command(FILE *out, int argc, char **argv)
{
    fputs("fewshot", out);
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        int plain = *a != '\0';
        for (const char *p = a; *p; p++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./=:,+-@%",
                        *p))
                plain = 0;
        if (plain) {
            fprintf(out, " %s", a);
            continue;
        }
        fputs(" '", out);
        for (const char *p = a; *p; p++)
            if (*p == '\'')
                fputs("'\\''", out);
            else
                fputc(*p, out);
        fputc('\'', out);
    }
}

static const struct option sweep_options[] = {
    {"output", required_argument, NULL, 'o'},
    {"shard", required_argument, NULL, 'S'},
    {"jobs", required_argument, NULL, 'j'},
    {"dry-run", no_argument, NULL, 'n'},
    {"set", required_argument, NULL, 's'},
    {"no-report", no_argument, NULL, 'R'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

/* Load CONFIG and apply the --set values in order. */
int cli_load_config(const char *path, char **sets, size_t n_sets, fewshot_config **out)
{
    int rc = fewshot_config_load(out, path);
    for (size_t i = 0; rc == 0 && i < n_sets; i++)
        rc = fewshot_config_set(*out, sets[i]);
    if (rc) {
        cli_error_last();
        fewshot_config_free(*out);
        *out = NULL;
        return cli_exit_for(rc) == EXIT_OK ? EXIT_FAILED : cli_exit_for(rc);
    }
    return 0;
}

int cli_sweep(int argc, char **argv)
{
    fewshot_sweep_options opts = FEWSHOT_SWEEP_OPTIONS_INIT;
    const char *path = NULL, *out_dir = NULL;
    char **sets = calloc((size_t)argc + 1, sizeof *sets);
    size_t n_sets = 0;
    int report = 1, c, status = EXIT_OK;
    uint64_t jobs;
    /* getopt reorders argv; the resume hint repeats the command as it was typed */
    char **typed = calloc((size_t)argc + 1, sizeof *typed);
    if (typed)
        memcpy(typed, argv, (size_t)argc * sizeof *argv);
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:j:h", sweep_options, NULL)) != -1) {
        switch (c) {
        case 'o': out_dir = optarg; break;
        case 'S':
            if (parse_shard(optarg, &opts.shard_index, &opts.shard_count)) {
                free(sets), free(typed);
                return EXIT_USAGE;
            }
            break;
        case 'j':
            if (cli_parse_u64(optarg, "--jobs", &jobs) || jobs == 0 || jobs > 100000) {
                free(sets), free(typed);
                return jobs == 0 ? cli_usage_error("--jobs: expected 1 to 100000") : EXIT_USAGE;
            }
            opts.jobs = (unsigned int)jobs;
            break;
        case 'n': opts.dry_run = 1; break;
        case 's': sets[n_sets++] = optarg; break;
        case 'R': report = 0; break;
        case 'h':
            cli_sweep_usage(stdout);
            free(sets), free(typed);
            return EXIT_OK;
        default:
            free(sets), free(typed);
            return cli_usage_error("sweep: unknown option or missing value '%s'",
                                   argv[optind - 1]);
        }
    }
    if (optind < argc)
        path = argv[optind++];
    if (optind < argc) {
        free(sets), free(typed);
        return cli_usage_error("sweep: unexpected argument '%s'", argv[optind]);
    }
    if (!path) {
        free(sets), free(typed);
        return cli_usage_error("sweep: missing CONFIG (see fewshot-config(5))");
    }
    fewshot_config *cfg;
    if ((status = cli_load_config(path, sets, n_sets, &cfg)) != 0) {
        free(sets), free(typed);
        return status;
    }
    free(sets);
    char *dir = out_dir ? strdup(out_dir) : default_run_dir(cfg, path);
    opts.run_dir = dir;
    opts.log = opts.dry_run ? stdout : stderr;
    opts.progress = !opts.dry_run && isatty(fileno(stderr)) ? stderr : NULL;
    fewshot_sweep_result res;
    opts.cancel = &stop_signal;
    if (!opts.dry_run)
        catch_stop_signals(1);
    int rc = fewshot_sweep_run(cfg, &opts, &res);
    if (!opts.dry_run)
        catch_stop_signals(0);
    if (rc == FEWSHOT_EUSER && stop_signal) {
        /* documented in fewshot-sweep(1): 128 + the signal, as a shell reports it */
        int sig = stop_signal ? stop_signal : SIGINT;
        if (opts.progress)
            fputs("\r\033[K", opts.progress);
        fprintf(stderr, "fewshot: %s: %s (%s); %zu episodes run, %zu already done, %zu failed\n",
                dir, fewshot_error_last()->message, strsignal(sig), res.ran, res.already_done,
                res.failed);
        fprintf(stderr, "fewshot: resume with: ");
        print_command(stderr, argc, typed ? typed : argv);
        fputc('\n', stderr);
        status = 128 + sig;
    } else if (rc && rc != FEWSHOT_ERROR) {
        cli_error_last();
        /* another sweep holds RUN_DIR: nothing ran, as for a configuration error */
        status = rc == FEWSHOT_EAGAIN ? EXIT_USAGE : cli_exit_for(rc);
    } else if (!opts.dry_run) {
        fprintf(stderr, "fewshot: %s: %zu episodes run, %zu already done, %zu failed, "
                "%zu skipped (%.1f s)\n", dir, res.ran, res.already_done, res.failed,
                res.skipped, res.seconds);
        if (res.stopped)
            fprintf(stderr, "fewshot: %zu episodes of stopped arms were not run\n",
                    res.stopped);
        if (rc)
            status = EXIT_FAILED;
        fewshot_report_options ropts = FEWSHOT_REPORT_OPTIONS_INIT;
        ropts.table = report ? stdout : NULL;
        if (fewshot_report_run(dir, &ropts) != 0) {
            cli_error_last();
            status = EXIT_FAILED;
        } else {
            fprintf(stderr, "fewshot: results in %s: results.sqlite, summary.csv, plots "
                    "(*.gp, *.svg when gnuplot is installed); `fewshot report %s` prints this "
                    "again\n", dir, dir);
        }
    }
    free(dir);
    free(typed);
    fewshot_config_free(cfg);
    return status;
}

int cli_merge(int argc, char **argv)
{
    static const struct option merge_options[] = {
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out_dir = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "o:h", merge_options, NULL)) != -1) {
        switch (c) {
        case 'o': out_dir = optarg; break;
        case 'h': cli_merge_usage(stdout); return EXIT_OK;
        default:
            return cli_usage_error("merge: unknown option or missing value '%s'",
                                   argv[optind - 1]);
        }
    }
    if (!out_dir)
        return cli_usage_error("merge: -o RUN_DIR is required");
    if (optind >= argc)
        return cli_usage_error("merge: give the run directories to combine");
    size_t copied = 0;
    int rc = fewshot_sweep_merge((const char *const *)argv + optind, (size_t)(argc - optind),
                                 out_dir, &copied);
    if (rc) {
        cli_error_last();
        return rc == FEWSHOT_EAGAIN ? EXIT_USAGE : cli_exit_for(rc);
    }
    fprintf(stderr, "fewshot: merged %zu episodes into %s\n", copied, out_dir);
    fewshot_report_options ropts = FEWSHOT_REPORT_OPTIONS_INIT;
    ropts.table = stdout;
    if ((rc = fewshot_report_run(out_dir, &ropts)) != 0) {
        cli_error_last();
        return EXIT_FAILED;
    }
    return EXIT_OK;
}
