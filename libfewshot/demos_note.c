/*
 * demos.json, the run directory's note of which stored datasets its arms used
 * ({"datasets": {ID: {"path", "transitions", "arms": [...]}}}): a note for people and tools
 * (report's reproduction record), not needed to resume. Written by the sweep as arms obtain
 * their datasets, combined by merge from the shards' notes.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fewshot/error.h"
#include "internal.h"

static char *note_path(const char *run_dir)
{
    char *file = malloc(strlen(run_dir) + 16);
    if (file)
        sprintf(file, "%s/demos.json", run_dir);
    return file;
}

json_t *fewshot__demos_note_load(const char *run_dir)
{
    char *file = note_path(run_dir);
    /* the run directory may come from anyone: take what is there only where it has the
     * expected shape */
    json_t *doc = file ? json_load_file(file, 0, NULL) : NULL;
    free(file);
    if (!json_is_object(doc) || !json_is_object(json_object_get(doc, "datasets"))) {
        json_decref(doc);
        doc = json_pack("{s:{}}", "datasets");
    }
    return doc;
}

/* Insert arm into the sorted list arms unless it is there. */
static void add_arm(json_t *arms, const char *arm)
{
    size_t i, at = json_array_size(arms);
    json_t *a;
    json_array_foreach(arms, i, a) {
        int c = json_is_string(a) ? strcmp(json_string_value(a), arm) : -1;
        if (c == 0)
            return;
        if (c > 0 && at == json_array_size(arms))
            at = i;
    }
    json_array_insert_new(arms, at, json_string(arm));
}

void fewshot__demos_note_add(json_t *doc, const char *id, const char *path,
                             json_int_t transitions, const char *arm)
{
    json_t *sets = json_object_get(doc, "datasets");
    json_t *entry = json_object_get(sets, id);
    if (!json_is_object(entry) || !json_is_array(json_object_get(entry, "arms"))) {
        entry = json_pack("{s:s?, s:I, s:[]}", "path", path, "transitions", transitions, "arms");
        json_object_set_new(sets, id, entry);
    }
    if (arm)
        add_arm(json_object_get(entry, "arms"), arm);
}

void fewshot__demos_note_combine(json_t *doc, const json_t *other)
{
    const char *id;
    json_t *entry;
    json_object_foreach(json_object_get(other, "datasets"), id, entry) {
        const json_t *path = json_object_get(entry, "path"),
                     *count = json_object_get(entry, "transitions"),
                     *arms = json_object_get(entry, "arms");
        if (!json_is_object(entry) || !json_is_array(arms))
            continue;
        fewshot__demos_note_add(doc, id, json_string_value(path), json_integer_value(count),
                                NULL);
        size_t i;
        json_t *a;
        json_array_foreach(arms, i, a)
            if (json_is_string(a))
                fewshot__demos_note_add(doc, id, NULL, 0, json_string_value(a));
    }
}

int fewshot__demos_note_save(const char *run_dir, const json_t *doc)
{
    char *file = note_path(run_dir);
    if (!file)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    int rc = fewshot__atomic_dump_json(doc, file, JSON_INDENT(2) | JSON_SORT_KEYS, "demos.json");
    free(file);
    return rc;
}
