/*
 * `fewshot`: the command-line face of libfewshot. Dispatches to one subcommand group per file.
 */
#include "config.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static void usage(FILE *out);

static const cli_command commands[] = {
    {"env", "list, inspect and roll out environment plugins", cli_env, cli_env_usage},
    {"sweep", "run or resume an ablation sweep from a config", cli_sweep, cli_sweep_usage},
    {"report", "summary table, CSV and plots of a run directory", cli_report, cli_report_usage},
    {"merge", "combine the run directories of a sweep's shards", cli_merge, cli_merge_usage},
    {"prompt", "print exactly what an arm of a config would send to the LLM", cli_prompt,
     cli_prompt_usage},
    {"demos", "generate and summarize demonstration datasets", cli_demos, cli_demos_usage},
    {"template", "render Mustache templates with JSON data", cli_template, cli_template_usage},
    {"llm", "call an OpenAI-compatible endpoint by hand", cli_llm, cli_llm_usage},
    {"cache", "inspect, prune or clear the LLM response cache", cli_cache, cli_cache_usage},
};

static const cli_command *find_command(const char *name)
{
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void usage(FILE *out)
{
    fprintf(out, "usage: fewshot [--version] [--help] COMMAND [ARGS]\n\ncommands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof commands[0]; i++)
        fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(out, "  %-10s %s\n", "help", "show help for a command: fewshot help COMMAND");
    fprintf(out, "\nSee fewshot(1). Exit status: 0 success, 1 run failures, 2 usage or "
                 "configuration error.\n");
}

/* When this program runs from its build tree, the build tree's plugins are the ones meant. */
static void add_build_tree_plugins(void)
{
#if defined(FEWSHOT_BUILDDIR) && defined(FEWSHOT_BUILD_PLUGINDIR)
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    size_t len = strlen(FEWSHOT_BUILDDIR);
    if (strncmp(exe, FEWSHOT_BUILDDIR, len) == 0 && exe[len] == '/')
        fewshot_env_path_add(FEWSHOT_BUILD_PLUGINDIR);
#endif
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return EXIT_USAGE;
    }
    const char *cmd = argv[1];
    if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
        printf("fewshot %s (libfewshot %s, plugin ABI %d)\n", FEWSHOT_VERSION,
               fewshot_version_str(), FEWSHOT_PLUGIN_ABI);
        return EXIT_OK;
    }
    if (cli_is_help(cmd) || strcmp(cmd, "help") == 0) {
        if (argc >= 3 && strcmp(cmd, "help") == 0 && strcmp(argv[2], "help") != 0) {
            const cli_command *c = find_command(argv[2]);
            if (!c)
                return cli_usage_error("help: unknown command '%s'", argv[2]);
            c->usage(stdout);
            return EXIT_OK;
        }
        usage(stdout);
        return EXIT_OK;
    }
    const cli_command *c = find_command(cmd);
    if (!c) {
        fprintf(stderr, "fewshot: unknown command '%s'\n", cmd);
        usage(stderr);
        return EXIT_USAGE;
    }
    add_build_tree_plugins();
    return c->run(argc - 1, argv + 1);
}
