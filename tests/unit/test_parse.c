/*
 * The action parser over the table tests/data/replies.json (realistic replies, each with the
 * expected action or failure reason), then re-ask text, fallbacks, schema and options.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <fewshot.h>

static int failures, checks;

#define CHECK(cond, ...)                                                                     \
    do {                                                                                     \
        checks++;                                                                            \
        if (!(cond)) {                                                                       \
            failures++;                                                                      \
            fprintf(stderr, "FAIL %s:%d: ", __FILE__, __LINE__);                             \
            fprintf(stderr, __VA_ARGS__);                                                    \
            fputc('\n', stderr);                                                             \
        }                                                                                    \
    } while (0)

static const struct { const char *name; int code; } codes[] = {
    {"EPARSE", FEWSHOT_EPARSE}, {"EMISMATCH", FEWSHOT_EMISMATCH},
    {"ERANGE", FEWSHOT_ERANGE}, {"ETRUNCATED", FEWSHOT_ETRUNCATED}};

static int code_of(const char *name)
{
    for (size_t i = 0; i < sizeof codes / sizeof codes[0]; i++)
        if (strcmp(codes[i].name, name) == 0)
            return codes[i].code;
    return 1;
}

typedef struct space_buf {
    double low[16], high[16];
    fewshot_space s;
} space_buf;

static void load_space(space_buf *b, const json_t *j)
{
    b->s.dim = (size_t)json_integer_value(json_object_get(j, "dim"));
    for (size_t i = 0; i < b->s.dim && i < 16; i++) {
        b->low[i] = json_number_value(json_array_get(json_object_get(j, "low"), i));
        b->high[i] = json_number_value(json_array_get(json_object_get(j, "high"), i));
    }
    b->s.low = b->low;
    b->s.high = b->high;
    b->s.integer = json_is_true(json_object_get(j, "integer"));
    b->s.names = NULL;
}

static void run_case(const json_t *defaults, const json_t *c)
{
    const char *name = json_string_value(json_object_get(c, "name"));
    space_buf sb;
    const json_t *sp = json_object_get(c, "space");
    load_space(&sb, sp ? sp : json_object_get(defaults, "space"));
    fewshot_parse_options opts = FEWSHOT_PARSE_OPTIONS_INIT;
    const json_t *scale = json_object_get(c, "scale");
    opts.action_scale = json_number_value(scale ? scale : json_object_get(defaults, "scale"));
    const json_t *ints = json_object_get(c, "integers");
    opts.integers = json_is_true(ints ? ints : json_object_get(defaults, "integers"));
    json_t *o = json_deep_copy(json_object_get(c, "options"));
    int rc = fewshot_parse_options_from_json(&opts, o, "replies.json", "$.options");
    CHECK(rc == 0, "%s: options: %s", name, fewshot_error_last()->message);
    fewshot_parser *p;
    rc = fewshot_parser_new(&p, &sb.s, &opts);
    json_decref(o);
    CHECK(rc == 0, "%s: parser_new: %s", name, fewshot_error_last()->message);
    if (rc)
        return;
    double action[16] = {0};
    fewshot_parse_result res;
    const char *reply = json_string_value(json_object_get(c, "reply"));
    rc = fewshot_parser_parse(p, reply, json_string_length(json_object_get(c, "reply")), action,
                              &res);
    const json_t *expect = json_object_get(c, "expect");
    if (expect) {
        CHECK(rc == 0, "%s: expected success, got %d: %s", name, rc, res.reason);
        if (rc == 0) {
            for (size_t i = 0; i < json_array_size(expect); i++) {
                double want = json_number_value(json_array_get(expect, i));
                CHECK(fabs(action[i] - want) < 1e-9, "%s: action[%zu] = %.17g, expected %g",
                      name, i, action[i], want);
            }
        }
        const char *pat = json_string_value(json_object_get(c, "pattern"));
        if (pat && rc == 0)
            CHECK(res.pattern && strcmp(res.pattern, pat) == 0, "%s: pattern %s, expected %s",
                  name, res.pattern ? res.pattern : "(none)", pat);
        const json_t *cl = json_object_get(c, "clamped");
        if (cl)
            CHECK(res.clamped == (unsigned)json_integer_value(cl), "%s: clamped %u", name,
                  res.clamped);
    } else {
        int want = code_of(json_string_value(json_object_get(c, "error")));
        const char *reason = json_string_value(json_object_get(c, "reason"));
        CHECK(rc == want && res.code == want, "%s: code %d, expected %s (reason: %s)", name, rc,
              json_string_value(json_object_get(c, "error")), res.reason);
        CHECK(reason && strstr(res.reason, reason), "%s: reason '%s' lacks '%s'", name,
              res.reason, reason ? reason : "");
        CHECK(strstr(fewshot_error_last()->message, res.reason) != NULL,
              "%s: last error '%s' lacks the reason", name, fewshot_error_last()->message);
    }
    fewshot_parser_free(p);
}

/* The instructed range (HVAC heating: 0..100 shown): values outside are counted, then
 * clamped or refused; NaN restores the box. */
static void test_instructed_range(void)
{
    static const double lo[] = {-1, -1, -1}, hi[] = {1, 1, 1};
    fewshot_space s = {3, lo, hi, 0, NULL};
    fewshot_parse_options opts = FEWSHOT_PARSE_OPTIONS_INIT;
    opts.action_scale = 100;
    fewshot_parser *p;
    double a[3];
    fewshot_parse_result res;
    CHECK(fewshot_parser_new(&p, &s, &opts) == 0, "parser");
    fewshot_parser_set_range(p, 0, 1);
    CHECK(fewshot_parser_parse(p, "Actions: [-50, 20, 150]", (size_t)-1, a, &res) == 0 &&
              res.out_of_range == 2 && a[0] == 0 && fabs(a[1] - 0.2) < 1e-12 && a[2] == 1,
          "heating: -50 and 150 counted and clamped (%u)", res.out_of_range);
    CHECK(fewshot_parser_fallback(p, (const double[]){-0.5, 0.5, 0.5}, NULL, a, &res) == 0 &&
              a[0] == 0, "the fallback is clipped into the range");
    fewshot_parser_set_range(p, NAN, NAN);
    CHECK(fewshot_parser_parse(p, "Actions: [-50, 20, 30]", (size_t)-1, a, &res) == 0 &&
              res.out_of_range == 0 && a[0] == -0.5, "NaN: the box again");
    fewshot_parser_free(p);
    opts.out_of_range = FEWSHOT_PARSE_REJECT;
    CHECK(fewshot_parser_new(&p, &s, &opts) == 0, "parser");
    fewshot_parser_set_range(p, -1, 0);
    CHECK(fewshot_parser_parse(p, "Actions: [-50, 20, -30]", (size_t)-1, a, &res) ==
              FEWSHOT_ERANGE && res.out_of_range == 1 && strstr(res.reason, "[-100, 0]"),
          "cooling, reject: %s", res.reason);
    fewshot_parser_free(p);
}

static void test_policies(void)
{
    static const double lo[] = {-1, -1}, hi[] = {1, 1};
    fewshot_space s = {2, lo, hi, 0, NULL};
    fewshot_parse_options opts = FEWSHOT_PARSE_OPTIONS_INIT;
    opts.action_scale = 100;
    opts.integers = 1;
    fewshot_parser *p;
    CHECK(fewshot_parser_new(&p, &s, &opts) == 0, "parser");
    fewshot_parse_result res;
    double a[2];
    CHECK(fewshot_parser_parse(p, "Actions: [40]", (size_t)-1, a, &res) == FEWSHOT_EMISMATCH,
          "count");
    char *text;
    CHECK(fewshot_parser_reask(p, &res, &text) == 0, "reask");
    CHECK(strcmp(text, "Your reply could not be used: expected 2 values, got 1. Reply with "
                       "exactly 2 integers from -100 to 100, in order, as: Actions: [a, b]") == 0,
          "reask text: %s", text);
    free(text);
    /* fallbacks: hold, expert, zero; missing inputs fall back to zero */
    double last[2] = {0.5, 2.0}, expert[2] = {-0.25, 0.25};
    CHECK(fewshot_parser_fallback(p, last, expert, a, &res) == 0 && a[0] == 0.5 && a[1] == 1.0 &&
          strcmp(res.fallback, "hold") == 0 && res.code == FEWSHOT_EMISMATCH, "hold (clipped)");
    CHECK(fewshot_parser_fallback(p, NULL, expert, a, &res) == 0 && a[0] == 0 &&
          strcmp(res.fallback, "zero") == 0, "hold without last");
    fewshot_parser_free(p);
    opts.fallback = FEWSHOT_FALLBACK_EXPERT;
    CHECK(fewshot_parser_new(&p, &s, &opts) == 0, "parser");
    CHECK(fewshot_parser_fallback(p, last, expert, a, &res) == 0 && a[0] == -0.25 &&
          strcmp(res.fallback, "expert") == 0, "expert");
    fewshot_parser_free(p);
    opts.fallback = FEWSHOT_FALLBACK_NONE;
    CHECK(fewshot_parser_new(&p, &s, &opts) == 0, "parser");
    CHECK(fewshot_parser_fallback(p, last, expert, a, &res) == FEWSHOT_EUNSUPPORTED, "none");
    /* structured output */
    json_t *rf;
    CHECK(fewshot_parser_response_format(p, &rf) == 0, "response_format");
    char *dump = json_dumps(rf, JSON_SORT_KEYS | JSON_COMPACT);
    CHECK(strcmp(dump, "{\"json_schema\":{\"name\":\"actions\",\"schema\":{"
                       "\"additionalProperties\":false,\"properties\":{\"actions\":{\"items\":{"
                       "\"maximum\":100,\"minimum\":-100,\"type\":\"integer\"},\"maxItems\":2,"
                       "\"minItems\":2,\"type\":\"array\"}},\"required\":[\"actions\"],"
                       "\"type\":\"object\"},\"strict\":true},\"type\":\"json_schema\"}") == 0,
          "schema: %s", dump);
    /* the schema's own shape parses */
    CHECK(fewshot_parser_parse(p, "{\"actions\": [-100, 100]}", (size_t)-1, a, &res) == 0 &&
          a[0] == -1 && a[1] == 1, "schema shape parses");
    free(dump);
    json_decref(rf);
    fewshot_parser_free(p);
    /* options from JSON: errors name the path */
    json_t *bad = json_pack("{s:s}", "fallback", "maybe");
    CHECK(fewshot_parse_options_from_json(&opts, bad, "c.json", "$.parse") == FEWSHOT_EINVAL &&
          strcmp(fewshot_error_last()->path, "$.parse.fallback") == 0, "bad fallback path");
    json_decref(bad);
    bad = json_pack("{s:[s]}", "patterns", "regex");
    CHECK(fewshot_parse_options_from_json(&opts, bad, NULL, "$.parse") == FEWSHOT_EINVAL &&
          strcmp(fewshot_error_last()->path, "$.parse.patterns[0]") == 0, "bad pattern path");
    json_decref(bad);
    bad = json_pack("{s:i}", "colour", 1);
    CHECK(fewshot_parse_options_from_json(&opts, bad, NULL, NULL) == FEWSHOT_EINVAL &&
          strstr(fewshot_error_last()->message, "unknown key"), "unknown key");
    json_decref(bad);
    opts = (fewshot_parse_options)FEWSHOT_PARSE_OPTIONS_INIT;
    opts.patterns = "json,regexp";
    CHECK(fewshot_parser_new(&p, &s, &opts) == FEWSHOT_EINVAL, "unknown pattern refused");
}

int main(void)
{
    const char *top = getenv("top_srcdir");
    char path[4096];
    snprintf(path, sizeof path, "%s/tests/data/replies.json", top ? top : "..");
    json_error_t jerr;
    json_t *doc = json_load_file(path, 0, &jerr);
    if (!doc) {
        fprintf(stderr, "%s:%d: %s\n", path, jerr.line, jerr.text);
        return 1;
    }
    size_t i;
    json_t *c;
    size_t n = json_array_size(json_object_get(doc, "cases"));
    json_array_foreach(json_object_get(doc, "cases"), i, c)
        run_case(json_object_get(doc, "defaults"), c);
    CHECK(n >= 50, "only %zu replies in the table", n);
    json_decref(doc);
    test_policies();
    test_instructed_range();
    printf("%zu replies; %d checks, %d failed\n", n, checks, failures);
    return failures ? 1 : 0;
}
