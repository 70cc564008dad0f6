/*
 * `fewshot env import-energyplus FILE.table.htm [-t TYPE] [-n NAME] -o building.json`: turn the
 * "Zone Information" table of EnergyPlus tabular output into a building file.
 */
#include "config.h"

#include <getopt.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static const struct option import_options[] = {
    {"type", required_argument, NULL, 't'},
    {"name", required_argument, NULL, 'n'},
    {"output", required_argument, NULL, 'o'},
    {"help", no_argument, NULL, 'h'},
    {NULL, 0, NULL, 0},
};

int cli_env_import(int argc, char **argv)
{
    const char *type = NULL, *name = NULL, *output = NULL, *input = NULL;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "t:n:o:h", import_options, NULL)) != -1) {
        switch (c) {
        case 't': type = optarg; break;
        case 'n': name = optarg; break;
        case 'o': output = optarg; break;
        case 'h':
            cli_env_usage(stdout);
            return EXIT_OK;
        default:
            if (optopt)
                return cli_usage_error("env import-energyplus: option -%c needs a value or is "
                                       "unknown", optopt);
            return cli_usage_error("env import-energyplus: unknown option '%s'",
                                   argv[optind - 1]);
        }
    }
    for (; optind < argc; optind++) {
        if (input)
            return cli_usage_error("env import-energyplus: unexpected argument '%s'",
                                   argv[optind]);
        input = argv[optind];
    }
    if (!input)
        return cli_usage_error("env import-energyplus: missing FILE.table.htm");
    if (!output)
        return cli_usage_error("env import-energyplus: -o building.json is required "
                               "(-o - writes to standard output)");
    if (type) {
        double u[7];
        if (fewshot_building_u_values(type, u) != 0) {
            cli_error_last();
            return EXIT_USAGE;
        }
    }
    fewshot_building *b;
    int rc = fewshot_building_import_energyplus(&b, input, type);
    if (rc != 0) {
        cli_error_last();
        return cli_exit_for(rc);
    }
    if (name) {
        char *copy = strdup(name);
        if (copy) {
            free(b->name);
            b->name = copy;
        }
    }
    rc = fewshot_building_save(b, output);
    if (rc != 0)
        cli_error_last();
    else if (strcmp(output, "-") != 0)
        fprintf(stderr, "%s: %zu zones in %d layer%s, type %s -> %s\n", b->name, b->n_zones,
                b->n_layers, b->n_layers == 1 ? "" : "s", b->type, output);
    fewshot_building_free(b);
    return rc ? cli_exit_for(rc) : EXIT_OK;
}
