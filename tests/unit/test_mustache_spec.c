/*
 * The official Mustache spec files ($FEWSHOT_SHARED/conformance/mustache/NAME.json): every test of
 * comments, delimiters, interpolation, inverted, partials and sections must render exactly.
 * Each failure is reported by file and test name. Exit 77 (skip) when the files are absent.
 * Also: integers render as printf's "%lld" would.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fewshot.h>

static const char *const files[] = {"comments", "delimiters", "interpolation", "inverted",
                                    "partials", "sections"};

static void show(const char *label, const char *s)
{
    fprintf(stderr, "    %s: \"", label);
    for (; *s; s++) {
        if (*s == '\n')
            fputs("\\n", stderr);
        else if (*s == '\r')
            fputs("\\r", stderr);
        else
            fputc(*s, stderr);
    }
    fputs("\"\n", stderr);
}

/* Integers render as printf's "%lld" does (written without printf), limits included. */
static int integers(void)
{
    static const json_int_t cases[] = {0, 7, -7, 10, -10, 99, 100, 123456789, -1000000000000,
                                       INT64_MAX, INT64_MIN, INT64_MIN + 1};
    int failed = 0;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *data = json_pack("{s:I}", "n", cases[i]);
        char want[64], *got = NULL;
        snprintf(want, sizeof want, "[%" JSON_INTEGER_FORMAT "]", cases[i]);
        if (fewshot_template_render_text(&got, "[{{n}}]", data, NULL) != 0 || strcmp(got, want)) {
            fprintf(stderr, "FAIL integer %s: got %s\n", want, got ? got : "(error)");
            failed++;
        }
        free(got);
        json_decref(data);
    }
    return failed;
}

int main(void)
{
    const char *shared = getenv("FEWSHOT_SHARED");
    char path[4096];
    int passed = 0, failed = integers(), found = 0;
    for (size_t f = 0; f < sizeof files / sizeof files[0]; f++) {
        snprintf(path, sizeof path, "%s/conformance/mustache/%s.json", shared ? shared : ".",
                 files[f]);
        json_error_t jerr;
        json_t *doc = json_load_file(path, 0, &jerr);
        if (!doc) {
            if (!shared || strstr(jerr.text, "unable to open")) {
                fprintf(stderr, "missing %s\n", path);
                continue;
            }
            fprintf(stderr, "FAIL %s: %s:%d: %s\n", files[f], path, jerr.line, jerr.text);
            failed++;
            continue;
        }
        found++;
        size_t i;
        json_t *t;
        json_array_foreach(json_object_get(doc, "tests"), i, t) {
            const char *name = json_string_value(json_object_get(t, "name"));
            const char *text = json_string_value(json_object_get(t, "template"));
            const char *expected = json_string_value(json_object_get(t, "expected"));
            fewshot_template_options opts = FEWSHOT_TEMPLATE_OPTIONS_INIT;
            opts.partials = json_object_get(t, "partials");
            opts.name = name;
            char *got = NULL;
            int rc = fewshot_template_render_text(&got, text, json_object_get(t, "data"), &opts);
            if (rc == 0 && strcmp(got, expected) == 0) {
                passed++;
            } else {
                failed++;
                fprintf(stderr, "FAIL %s.json: %s\n", files[f], name);
                show("template", text);
                show("expected", expected);
                if (rc) {
                    char buf[512];
                    fewshot_error_format(buf, sizeof buf);
                    fprintf(stderr, "    error: %s\n", buf);
                } else {
                    show("got     ", got);
                }
            }
            free(got);
        }
        json_decref(doc);
    }
    if (!found) {
        printf("SKIP: no Mustache spec files under $FEWSHOT_SHARED/conformance/mustache\n");
        return failed ? 1 : 77;
    }
    printf("%d spec tests passed, %d failed\n", passed, failed);
    return failed ? 1 : 0;
}
