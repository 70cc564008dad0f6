/*
 * libFuzzer target: the Mustache compiler and renderer. The input is the template; after a NUL
 * byte, the rest is the JSON data (a fixed document otherwise). Partials include recursive
 * ones, so depth and output limits are exercised.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fewshot/error.h"
#include "fewshot/template.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static json_t *fixed_data, *partials;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!fixed_data) {
        fixed_data = json_loads("{\"a\": [1, 2.5, \"x<&>\"], \"b\": {\"c\": {\"d\": true}}, "
                                "\"e\": \"\", \"f\": null, \"g\": [[1], [2, [3]]], "
                                "\"rooms\": [{\"name\": \"Room 1\", \"t\": 21.4}, "
                                "{\"name\": \"Room 2\", \"t\": -3}]}", 0, NULL);
        partials = json_loads("{\"p\": \"[{{.}}]\\n{{#a}}{{>p}}{{/a}}\", \"q\": \"{{>q}}\", "
                              "\"r\": \"  {{#rooms}}\\n{{name}}\\n  {{/rooms}}\\n\", "
                              "\"bad\": \"{{#x}}\"}", 0, NULL);
    }
    const uint8_t *nul = memchr(data, 0, size);
    size_t tlen = nul ? (size_t)(nul - data) : size;
    json_t *own = NULL;
    if (nul)
        own = json_loadb((const char *)nul + 1, size - tlen - 1, JSON_DECODE_ANY, NULL);
    fewshot_template_options o = FEWSHOT_TEMPLATE_OPTIONS_INIT;
    o.partials = partials;
    o.max_output = 1 << 20;
    o.max_depth = 40;
    o.escape = size & 1 ? FEWSHOT_TEMPLATE_ESCAPE_NONE : FEWSHOT_TEMPLATE_ESCAPE_HTML;
    fewshot_template *t;
    if (fewshot_template_new(&t, (const char *)data, tlen, &o) == 0) {
        fewshot_text_buf out = FEWSHOT_TEXT_BUF_INIT;
        int rc = fewshot_template_render(t, own ? own : fixed_data, &out);
        if (rc == 0 && (out.data == NULL || strlen(out.data) > out.len))
            abort();
        if (rc == 0 && out.len > ((size_t)1 << 20))
            abort();
        fewshot_text_buf_free(&out);
        /* rendering twice uses the partial cache */
        fewshot_text_buf_reset(&out);
        fewshot_template_render(t, fixed_data, &out);
        fewshot_text_buf_free(&out);
        fewshot_template_free(t);
    } else if (fewshot_error_last()->code == FEWSHOT_EPARSE && fewshot_error_last()->line < 1) {
        abort();    /* syntax errors always have a position */
    }
    json_decref(own);
    return 0;
}
