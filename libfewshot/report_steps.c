/*
 * `fewshot report --steps`: every stored step as one JSON object per line, the way to get a
 * run's per-step data as JSON now that observations and actions are stored as BLOBs of
 * doubles (results.c) rather than as formatted text.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "fewshot/error.h"
#include "fewshot/report.h"
#include "results.h"

static int print_steps(fewshot__results *db, const char *id, FILE *out)
{
    json_t *steps;
    int rc = fewshot__results_steps(db, id, &steps);
    size_t i;
    json_t *st;
    json_array_foreach(steps, i, st) {
        if (rc)
            break;
        json_t *line = json_pack("{s:s}", "episode", id);
        json_object_update(line, st);
        char *text = json_dumps(line, JSON_COMPACT | JSON_REAL_PRECISION(17));
        json_decref(line);
        if (!text) {
            rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
            break;
        }
        if (fprintf(out, "%s\n", text) < 0)
            rc = fewshot_error_set(FEWSHOT_EIO, "cannot write the steps");
        free(text);
    }
    json_decref(steps);
    return rc;
}

int fewshot_report_steps(const char *run_dir, FILE *out)
{
    fewshot__results *db = NULL;
    json_t *episodes = NULL;
    int rc = fewshot__results_open(&db, run_dir, 0, NULL, NULL);
    if (rc == 0)
        rc = fewshot__results_episodes(db, &episodes);
    size_t i;
    json_t *ep;
    json_array_foreach(episodes, i, ep) {
        if (rc)
            break;
        rc = print_steps(db, json_string_value(json_object_get(ep, "id")), out);
    }
    json_decref(episodes);
    fewshot__results_close(db);
    return rc;
}
