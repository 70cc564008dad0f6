/*
 * libFuzzer target: the rows of a run directory's results.sqlite, which may come from anyone
 * (a copied or archived run). The input is JSON:
 *     {"run": {"KEY": "VALUE TEXT", ...}, "episodes": [[v, ...], ...], "steps": [[v, ...], ...]}
 * whose values (strings, numbers, null; nested JSON as its text) fill the tables' columns in
 * order. The database is then read the ways a sweep, a merge and a report read it. The file
 * format itself is SQLite's to fuzz.
 */
#include "fuzz_common.h"

#include <sqlite3.h>

#include "fewshot/error.h"
#include "fewshot/report.h"
#include "results.h"

static void bind(sqlite3_stmt *st, int i, const json_t *v)
{
    if (json_is_string(v))
        sqlite3_bind_text(st, i, json_string_value(v), -1, SQLITE_TRANSIENT);
    else if (json_is_integer(v))
        sqlite3_bind_int64(st, i, json_integer_value(v));
    else if (json_is_real(v))
        sqlite3_bind_double(st, i, json_real_value(v));
    else if (json_is_null(v) || !v)
        sqlite3_bind_null(st, i);
    else {
        char *t = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        sqlite3_bind_text(st, i, t ? t : "", -1, SQLITE_TRANSIENT);
        free(t);
    }
}

static void fill(sqlite3 *db, const char *table, int columns, const json_t *rows)
{
    char sql[512];
    int n = snprintf(sql, sizeof sql, "INSERT OR REPLACE INTO %s VALUES (", table);
    for (int i = 0; i < columns; i++)
        n += snprintf(sql + n, sizeof sql - (size_t)n, "%s?", i ? "," : "");
    snprintf(sql + n, sizeof sql - (size_t)n, ")");
    sqlite3_stmt *st;
    if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
        return;
    size_t i;
    json_t *row;
    json_array_foreach(rows, i, row) {
        if (i >= 64)
            break;
        for (int c = 0; c < columns; c++)
            bind(st, c + 1, json_array_get(row, (size_t)c));
        sqlite3_step(st);
        sqlite3_reset(st);
    }
    sqlite3_finalize(st);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *doc = json_loadb((const char *)data, size, 0, NULL);
    if (!json_is_object(doc)) {
        json_decref(doc);
        return 0;
    }
    char dir[128], out[160], cmd[400];
    snprintf(dir, sizeof dir, "%s/run", fuzz_scratch());
    snprintf(out, sizeof out, "%s/merged", fuzz_scratch());
    snprintf(cmd, sizeof cmd, "rm -rf '%s' '%s'", dir, out);
    if (system(cmd) != 0)
        abort();
    json_t *config = json_object();
    fewshot__results *r = NULL;
    if (fewshot__results_open(&r, dir, 1, "h", config) != 0)
        abort();
    fewshot__results_close(r);
    char path[200];
    snprintf(path, sizeof path, "%s/results.sqlite", dir);
    sqlite3 *db;
    if (sqlite3_open(path, &db) != SQLITE_OK)
        abort();
    const char *key;
    json_t *value;
    json_object_foreach(json_object_get(doc, "run"), key, value) {
        json_t *row = json_pack("[sO]", key, value);
        json_t *rows = json_pack("[o]", row);
        fill(db, "run", 2, rows);
        json_decref(rows);
    }
    fill(db, "episodes", 18, json_object_get(doc, "episodes"));
    fill(db, "steps", 14, json_object_get(doc, "steps"));
    sqlite3_close(db);
    /* a resume: the hash check and the finished episodes */
    json_t *finished = NULL;
    if (fewshot__results_open(&r, dir, 0, "h", config) == 0) {
        if (fewshot__results_finished(r, &finished) == 0)
            json_decref(finished);
        json_t *eps = NULL;
        if (fewshot__results_episodes(r, &eps) == 0)
            json_decref(eps);
        fewshot__results_close(r);
    }
    /* a merge into a new directory */
    fewshot__results *m = NULL;
    if (fewshot__results_open(&r, dir, 0, NULL, NULL) == 0) {
        if (fewshot__results_open(&m, out, 1, fewshot__results_hash(r), config) == 0) {
            size_t copied;
            fewshot__results_import(m, dir, &copied);
            fewshot__results_close(m);
        }
        fewshot__results_close(r);
    }
    /* a report (tables and plot data, nothing rendered) */
    fewshot_report_options ro = FEWSHOT_REPORT_OPTIONS_INIT;
    FILE *null = fopen("/dev/null", "w");
    ro.table = null;
    fewshot_report_run(dir, &ro);
    fclose(null);
    json_decref(config);
    json_decref(doc);
    return 0;
}
