/*
 * The action parser: ordered PCRE2 patterns, validation against the action space, re-ask
 * text, fallbacks and the structured-output schema.
 */
#include "config.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <math.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fewshot/error.h"
#include "fewshot/parse.h"
#include "fewshot/text.h"

enum { P_JSON, P_ACTIONS, P_LIST, P_LINES, P_NUMBERS, P_COUNT };
static const char *const pattern_names[P_COUNT] = {"json", "actions", "list", "lines",
                                                   "numbers"};

/* A number, optionally a range "a-b" / "a to b" / "a~b", optionally with '%'. */
#define NUM "[-+]?(?:\\d+(?:\\.\\d*)?|\\.\\d+)(?:[eE][-+]?\\d+)?"
static const char *const regex_text[] = {
    /* json: a flat object (arrays inside are fine) */
    "\\{[^{}]*\\}",
    /* actions: the label, then the rest of the text (captured) */
    "(?i)\\bactions?\\b[ \\t]*(?:\\([^)\\n]{0,60}\\))?[ \\t]*[:=]",
    /* list: a bracketed list without nested brackets */
    "\\[([^\\[\\]]*)\\]",
    /* lines: "Room 2: 45", "- zone #3 = 40%", "Room 1 (north): 35", also one after another
     * on a line after "Actions:" or separated by ',' or ';' */
    "(?im)(?:^|[,;]|\\bactions?[ \\t]*:)[ \\t>#_+-]*[A-Za-z][A-Za-z_ ]{0,30}?[ \\t]*#?(\\d{1,4})[ \\t]*"
    "(?:\\([^)\\n]{0,40}\\))?[ \\t]*[:=][ \\t]*([^\\n,;]*)",
    /* numbers */
    "(?<![\\w.])(" NUM ")(?:(?:-(?=[+]?[\\d.])|[ \\t]+to[ \\t]+|[ \\t]*~[ \\t]*)(" NUM "))?"
    "(?:[ \\t]*%)?",
    /* an "actions" object cut off before its list closes */
    "\"actions?\"\\s*:\\s*\\[[^\\]]*$",
};
enum { R_JSON, R_ACTIONS, R_LIST, R_LINES, R_NUMBER, R_JSON_TRUNC, R_COUNT };

struct fewshot_parser {
    fewshot_parse_options opts;
    size_t dim;
    double *low, *high;     /* the instructed range: the box, or narrower (set_range) */
    double *box_low, *box_high;
    int integer_space;
    int integers;           /* values shown as integers */
    int order[P_COUNT];
    size_t norder;
    pcre2_code *re[R_COUNT];
    pcre2_match_data *md;
    char *work;             /* the cleaned reply */
    size_t worklen, workcap;
    double *values;         /* candidate values */
    size_t nvalues, capvalues;
    unsigned char *seen;    /* lines: which indices were given */
};

/* ------------------------------------------------------------------ options */

int fewshot_parse_options_init(fewshot_parse_options *opts, unsigned int version)
{
    if (version != FEWSHOT_PARSE_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "parse options version %u is not supported",
                                 version);
    *opts = (fewshot_parse_options)FEWSHOT_PARSE_OPTIONS_INIT;
    return 0;
}

static int pick(const json_t *v, const char *file, const char *path, const char *key,
                const char *const *names, const int *values, int *out)
{
    const char *s = json_string_value(v);
    for (size_t i = 0; s && names[i]; i++)
        if (strcmp(s, names[i]) == 0) {
            *out = values[i];
            return 0;
        }
    char allowed[128] = "";
    for (size_t i = 0; names[i]; i++)
        snprintf(allowed + strlen(allowed), sizeof allowed - strlen(allowed), "%s%s",
                 i ? ", " : "", names[i]);
    char p[256];
    snprintf(p, sizeof p, "%s.%s", path, key);
    return fewshot_error_set_path(FEWSHOT_EINVAL, file, p, "expected one of: %s", allowed);
}

int fewshot_parse_options_from_json(fewshot_parse_options *opts, const json_t *obj,
                                    const char *file, const char *path)
{
    static const char *const oor[] = {"clamp", "reject", NULL};
    static const int oor_v[] = {FEWSHOT_PARSE_CLAMP, FEWSHOT_PARSE_REJECT};
    static const char *const nonint[] = {"round", "reject", NULL};
    static const int nonint_v[] = {FEWSHOT_PARSE_ROUND, FEWSHOT_PARSE_REJECT};
    static const char *const extra[] = {"reject", "truncate", NULL};
    static const int extra_v[] = {FEWSHOT_PARSE_REJECT, FEWSHOT_PARSE_TRUNCATE};
    static const char *const ranges[] = {"midpoint", "reject", NULL};
    static const int ranges_v[] = {FEWSHOT_PARSE_MIDPOINT, FEWSHOT_PARSE_REJECT};
    static const char *const fb[] = {"none", "hold", "zero", "expert", NULL};
    static const int fb_v[] = {FEWSHOT_FALLBACK_NONE, FEWSHOT_FALLBACK_HOLD,
                               FEWSHOT_FALLBACK_ZERO, FEWSHOT_FALLBACK_EXPERT};
    if (!path)
        path = "$";
    if (!obj)
        return 0;
    if (!json_is_object(obj))
        return fewshot_error_set_path(FEWSHOT_EINVAL, file, path, "expected an object");
    const char *key;
    json_t *v;
    char p[256];
    json_object_foreach((json_t *)obj, key, v) {
        snprintf(p, sizeof p, "%s.%s", path, key);
        int rc = 0;
        if (strcmp(key, "scale") == 0) {
            if (!json_is_number(v) || !(json_number_value(v) > 0) ||
                !isfinite(json_number_value(v)))
                return fewshot_error_set_path(FEWSHOT_EINVAL, file, p,
                                              "expected a positive number");
            opts->action_scale = json_number_value(v);
        } else if (strcmp(key, "integers") == 0 || strcmp(key, "reask") == 0) {
            if (!json_is_boolean(v))
                return fewshot_error_set_path(FEWSHOT_EINVAL, file, p, "expected true or false");
            *(strcmp(key, "reask") == 0 ? &opts->reask : &opts->integers) = json_is_true(v);
        } else if (strcmp(key, "out_of_range") == 0) {
            rc = pick(v, file, path, key, oor, oor_v, &opts->out_of_range);
        } else if (strcmp(key, "non_integer") == 0) {
            rc = pick(v, file, path, key, nonint, nonint_v, &opts->non_integer);
        } else if (strcmp(key, "extra_values") == 0) {
            rc = pick(v, file, path, key, extra, extra_v, &opts->extra_values);
        } else if (strcmp(key, "ranges") == 0) {
            rc = pick(v, file, path, key, ranges, ranges_v, &opts->ranges);
        } else if (strcmp(key, "fallback") == 0) {
            rc = pick(v, file, path, key, fb, fb_v, &opts->fallback);
        } else if (strcmp(key, "max_failure_rate") == 0) {
            /* the sweep's guard (fewshot-parse(7)); the parser only checks it */
            if (!json_is_number(v) || !(json_number_value(v) >= 0 && json_number_value(v) <= 1))
                return fewshot_error_set_path(FEWSHOT_EINVAL, file, p,
                                              "expected a number from 0 to 1");
        } else if (strcmp(key, "patterns") == 0) {
            /* validated again by fewshot_parser_new(); here only the shape */
            size_t i;
            json_t *item;
            if (!json_is_array(v) || json_array_size(v) == 0)
                return fewshot_error_set_path(FEWSHOT_EINVAL, file, p,
                                              "expected a non-empty list of pattern names");
            json_array_foreach(v, i, item) {
                int found = 0;
                for (int k = 0; k < P_COUNT; k++)
                    found |= json_is_string(item) &&
                             strcmp(json_string_value(item), pattern_names[k]) == 0;
                if (!found) {
                    snprintf(p, sizeof p, "%s.%s[%zu]", path, key, i);
                    return fewshot_error_set_path(FEWSHOT_EINVAL, file, p,
                                                  "expected one of: json, actions, list, "
                                                  "lines, numbers");
                }
            }
            /* keep the list as a comma-separated string in the object itself */
            fewshot_text_buf b = FEWSHOT_TEXT_BUF_INIT;
            json_array_foreach(v, i, item) {
                if (i)
                    fewshot_text_buf_puts(&b, ",");
                fewshot_text_buf_puts(&b, json_string_value(item));
            }
            json_object_set_new((json_t *)obj, "_patterns", json_string(b.data ? b.data : ""));
            fewshot_text_buf_free(&b);
            opts->patterns = json_string_value(json_object_get(obj, "_patterns"));
        } else if (strcmp(key, "_patterns") == 0) {
            continue;
        } else {
            return fewshot_error_set_path(FEWSHOT_EINVAL, file, p,
                                          "unknown key (expected scale, integers, out_of_range, "
                                          "non_integer, extra_values, ranges, patterns, reask, "
                                          "fallback, max_failure_rate)");
        }
        if (rc)
            return rc;
    }
    return 0;
}

/* ------------------------------------------------------------------ parser object */

void fewshot_parser_free(fewshot_parser *p)
{
    if (!p)
        return;
    for (int i = 0; i < R_COUNT; i++)
        pcre2_code_free(p->re[i]);
    pcre2_match_data_free(p->md);
    free(p->low);
    free(p->high);
    free(p->box_low);
    free(p->box_high);
    free(p->work);
    free(p->values);
    free(p->seen);
    free(p);
}

static int set_order(fewshot_parser *p, const char *list)
{
    if (!list) {
        for (int i = 0; i < P_COUNT; i++)
            p->order[i] = i;
        p->norder = P_COUNT;
        return 0;
    }
    const char *s = list;
    while (*s) {
        size_t n = strcspn(s, ", ");
        int found = -1;
        for (int i = 0; i < P_COUNT; i++)
            if (strlen(pattern_names[i]) == n && strncmp(s, pattern_names[i], n) == 0)
                found = i;
        if (n && found < 0)
            return fewshot_error_set(FEWSHOT_EINVAL, "parse: unknown pattern '%.*s' (expected "
                                     "json, actions, list, lines, numbers)", (int)n, s);
        if (n && p->norder < P_COUNT)
            p->order[p->norder++] = found;
        s += n;
        while (*s == ',' || *s == ' ')
            s++;
    }
    if (!p->norder)
        return fewshot_error_set(FEWSHOT_EINVAL, "parse: no patterns");
    return 0;
}

int fewshot_parser_new(fewshot_parser **out, const fewshot_space *act,
                       const fewshot_parse_options *opts)
{
    *out = NULL;
    if (!act || act->dim == 0)
        return fewshot_error_set(FEWSHOT_EINVAL, "parse: empty action space");
    if (opts && opts->version != FEWSHOT_PARSE_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "parse options version %u is not supported",
                                 opts->version);
    fewshot_parser *p = calloc(1, sizeof *p);
    if (!p)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    p->opts = opts ? *opts : (fewshot_parse_options)FEWSHOT_PARSE_OPTIONS_INIT;
    if (!(p->opts.action_scale > 0) || !isfinite(p->opts.action_scale))
        p->opts.action_scale = 1.0;
    p->dim = act->dim;
    p->integer_space = act->integer;
    p->integers = p->opts.integers || (act->integer && p->opts.action_scale == 1.0);
    p->low = malloc((act->dim + 1) * sizeof *p->low);
    p->high = malloc((act->dim + 1) * sizeof *p->high);
    p->box_low = malloc((act->dim + 1) * sizeof *p->box_low);
    p->box_high = malloc((act->dim + 1) * sizeof *p->box_high);
    p->seen = calloc(act->dim + 1, 1);
    int rc = p->low && p->high && p->box_low && p->box_high && p->seen
                 ? 0 : fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    for (size_t i = 0; rc == 0 && i < act->dim; i++) {
        p->low[i] = p->box_low[i] = act->low ? act->low[i] : -INFINITY;
        p->high[i] = p->box_high[i] = act->high ? act->high[i] : INFINITY;
    }
    if (rc == 0)
        rc = set_order(p, p->opts.patterns);
    p->opts.patterns = NULL;    /* not kept: the caller's string may go away */
    for (int i = 0; rc == 0 && i < R_COUNT; i++) {
        int err;
        PCRE2_SIZE off;
        p->re[i] = pcre2_compile((PCRE2_SPTR)regex_text[i], PCRE2_ZERO_TERMINATED, 0, &err,
                                 &off, NULL);
        if (!p->re[i]) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(err, msg, sizeof msg);
            rc = fewshot_error_set(FEWSHOT_ERROR, "parse: pattern %d at offset %zu: %s", i,
                                   (size_t)off, (char *)msg);
        }
        /* no JIT: replies are short, the interpreter is fast enough, and JIT code reads past
         * the subject in ways memory checkers report */
    }
    if (rc == 0 && !(p->md = pcre2_match_data_create(8, NULL)))
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    if (rc) {
        fewshot_parser_free(p);
        return rc;
    }
    *out = p;
    return 0;
}

/* ------------------------------------------------------------------ helpers */

static int fail(fewshot_parse_result *res, int code, const char *fmt, ...) FEWSHOT_PRINTF(3, 4);

static int fail(fewshot_parse_result *res, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->reason, sizeof res->reason, fmt, ap);
    va_end(ap);
    res->code = code;
    return code;
}

static int match(fewshot_parser *p, int re, size_t from)
{
    if (from > p->worklen)
        return 0;
    int n = pcre2_match(p->re[re], (PCRE2_SPTR)p->work, p->worklen, from, 0, p->md, NULL);
    return n > 0;
}

static size_t ov(const fewshot_parser *p, int i)
{
    return (size_t)pcre2_get_ovector_pointer(p->md)[i];
}

static int add_value(fewshot_parser *p, double v)
{
    if (p->nvalues == p->capvalues) {
        size_t cap = p->capvalues ? p->capvalues * 2 : 16;
        if (cap > 4096)
            return -1;  /* no action has that many elements; stop collecting */
        double *nv = realloc(p->values, cap * sizeof *nv);
        if (!nv)
            return -1;
        p->values = nv;
        p->capvalues = cap;
    }
    p->values[p->nvalues++] = v;
    return 0;
}

/* Clean the reply into p->work: drop <think> blocks, '*' and '`', map Unicode minus (U+2212)
 * and en dash (U+2013) to '-'. Returns 1 when a <think> block was never closed. */
static int clean(fewshot_parser *p, const char *reply, size_t len)
{
    if (len + 1 > p->workcap) {
        size_t cap = len + 64;
        char *w = realloc(p->work, cap);
        if (!w)
            return -1;
        p->work = w;
        p->workcap = cap;
    }
    size_t o = 0;
    int open_think = 0;
    for (size_t i = 0; i < len; i++) {
        unsigned char ch = (unsigned char)reply[i];
        if (ch == '<' && len - i >= 7 && memcmp(reply + i, "<think>", 7) == 0) {
            const char *end = NULL;
            for (size_t j = i + 7; j + 8 <= len; j++)
                if (memcmp(reply + j, "</think>", 8) == 0) {
                    end = reply + j;
                    break;
                }
            if (!end) {
                open_think = 1;
                break;
            }
            i = (size_t)(end - reply) + 7;
            continue;
        }
        if (ch == '*' || ch == '`')
            continue;
        if (ch == 0xE2 && i + 2 < len && (unsigned char)reply[i + 1] == 0x88 &&
            (unsigned char)reply[i + 2] == 0x92) {
            p->work[o++] = '-';
            i += 2;
            continue;
        }
        if (ch == 0xE2 && i + 2 < len && (unsigned char)reply[i + 1] == 0x80 &&
            (unsigned char)reply[i + 2] == 0x93) {
            p->work[o++] = '-';
            i += 2;
            continue;
        }
        p->work[o++] = ch ? (char)ch : ' ';
    }
    p->work[o] = '\0';
    p->worklen = o;
    return open_think;
}

static int is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

/* One number with strtod, restricted to decimal syntax. Returns the characters used, 0 when
 * s does not start with a number. */
static size_t scan_number(const char *s, size_t n, double *out)
{
    size_t i = 0;
    if (i < n && (s[i] == '-' || s[i] == '+'))
        i++;
    size_t digits = 0;
    while (i < n && s[i] >= '0' && s[i] <= '9') {
        i++;
        digits++;
    }
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && s[i] >= '0' && s[i] <= '9') {
            i++;
            digits++;
        }
    }
    if (!digits)
        return 0;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t j = i + 1;
        if (j < n && (s[j] == '-' || s[j] == '+'))
            j++;
        if (j < n && s[j] >= '0' && s[j] <= '9') {
            while (j < n && s[j] >= '0' && s[j] <= '9')
                j++;
            i = j;
        }
    }
    char tmp[80];
    if (i >= sizeof tmp)
        return 0;
    memcpy(tmp, s, i);
    tmp[i] = '\0';
    *out = strtod(tmp, NULL);
    return i;
}

static int word_ci(const char *s, size_t n, const char *w)
{
    size_t k = strlen(w);
    if (n != k)
        return 0;
    for (size_t i = 0; i < k; i++)
        if ((s[i] | 0x20) != w[i])
            return 0;
    return 1;
}

/* One list element: a number, "45%", "'45'", a range "20-30"; anything else fails. */
static int parse_element(fewshot_parser *p, const char *s, size_t n, fewshot_parse_result *res)
{
    while (n && (is_ws(*s) || *s == '"' || *s == '\'')) {
        s++;
        n--;
    }
    while (n && (is_ws(s[n - 1]) || s[n - 1] == '"' || s[n - 1] == '\''))
        n--;
    if (n && s[n - 1] == '%')
        n--;
    while (n && is_ws(s[n - 1]))
        n--;
    const char *t = s + (n && (*s == '-' || *s == '+'));
    size_t tn = n - (size_t)(t - s);
    if (word_ci(t, tn, "nan") || word_ci(t, tn, "inf") || word_ci(t, tn, "infinity") ||
        word_ci(t, tn, "null"))
        return fail(res, FEWSHOT_ERANGE, "value %zu is %.*s, not a finite number",
                    p->nvalues + 1, (int)(n > 20 ? 20 : n), s);
    double a, b;
    size_t used = scan_number(s, n, &a);
    if (!used)
        return fail(res, FEWSHOT_EPARSE, "value %zu ('%.*s') is not a number", p->nvalues + 1,
                    (int)(n > 40 ? 40 : n), s);
    size_t i = used;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i < n && s[i] == '%') {
        i++;
        while (i < n && (s[i] == ' ' || s[i] == '\t'))
            i++;
    }
    if (i < n) {
        size_t j = i;
        if (s[j] == '-' || s[j] == '~')
            j++;
        else if (n - j > 2 && (s[j] | 0x20) == 't' && (s[j + 1] | 0x20) == 'o' && s[j + 2] == ' ')
            j += 3;
        else
            return fail(res, FEWSHOT_EPARSE, "value %zu ('%.*s') is not a number",
                        p->nvalues + 1, (int)(n > 40 ? 40 : n), s);
        while (j < n && (s[j] == ' ' || s[j] == '\t'))
            j++;
        size_t used2 = scan_number(s + j, n - j, &b);
        size_t k = j + used2;
        while (k < n && (s[k] == ' ' || s[k] == '\t' || s[k] == '%'))
            k++;
        if (!used2 || k != n)
            return fail(res, FEWSHOT_EPARSE, "value %zu ('%.*s') is not a number",
                        p->nvalues + 1, (int)(n > 40 ? 40 : n), s);
        if (p->opts.ranges == FEWSHOT_PARSE_REJECT)
            return fail(res, FEWSHOT_EPARSE, "value %zu is a range ('%.*s'), not one number",
                        p->nvalues + 1, (int)(n > 40 ? 40 : n), s);
        a = (a + b) / 2;
    }
    if (!isfinite(a))
        return fail(res, FEWSHOT_ERANGE, "value %zu is not a finite number", p->nvalues + 1);
    if (add_value(p, a))
        return fail(res, FEWSHOT_EMISMATCH, "too many values (more than 4096)");
    return 0;
}

/* A list's inside: elements separated by commas or semicolons (or blanks when there are
 * none); a trailing separator is allowed. */
static int parse_list(fewshot_parser *p, const char *s, size_t n, fewshot_parse_result *res)
{
    int commas = memchr(s, ',', n) || memchr(s, ';', n);
    size_t i = 0;
    while (i < n && is_ws(s[i]))
        i++;
    if (i == n)
        return fail(res, FEWSHOT_EMISMATCH, "the list is empty; expected %zu values", p->dim);
    while (i < n) {
        size_t start = i;
        if (commas) {
            while (i < n && s[i] != ',' && s[i] != ';')
                i++;
        } else {
            while (i < n && !is_ws(s[i]))
                i++;
        }
        size_t e = i;
        int last = i >= n;
        i++;
        size_t a = start;
        while (a < e && is_ws(s[a]))
            a++;
        if (a == e) {
            if (last && start > 0)
                break;      /* trailing separator */
            if (!commas)
                continue;
            return fail(res, FEWSHOT_EPARSE, "value %zu is empty", p->nvalues + 1);
        }
        int rc = parse_element(p, s + start, e - start, res);
        if (rc)
            return rc;
        while (!commas && i < n && is_ws(s[i]))
            i++;
    }
    return 0;
}

/* ------------------------------------------------------------------ patterns */

enum { NOMATCH = 1 };

static int key_index(const char *key, long *idx)
{
    const char *d = NULL;
    for (const char *s = key; *s; s++)
        if (*s >= '0' && *s <= '9' && (s == key || s[-1] < '0' || s[-1] > '9'))
            d = s;
    if (!d)
        return 0;
    *idx = strtol(d, NULL, 10);
    return 1;
}

static int json_values(fewshot_parser *p, const json_t *v, fewshot_parse_result *res)
{
    if (json_is_number(v)) {
        double x = json_number_value(v);
        if (add_value(p, x))
            return fail(res, FEWSHOT_EMISMATCH, "too many values");
        return 0;
    }
    if (json_is_string(v))
        return parse_element(p, json_string_value(v), json_string_length(v), res);
    if (json_is_null(v))
        return fail(res, FEWSHOT_ERANGE, "value %zu is null, not a number", p->nvalues + 1);
    return fail(res, FEWSHOT_EPARSE, "value %zu is not a number", p->nvalues + 1);
}

static int try_json(fewshot_parser *p, fewshot_parse_result *res)
{
    size_t from = 0;
    json_t *best = NULL;
    while (match(p, R_JSON, from)) {
        size_t a = ov(p, 0), b = ov(p, 1);
        json_t *o = json_loadb(p->work + a, b - a, 0, NULL);
        if (json_is_object(o)) {
            json_t *acts = json_object_get(o, "actions");
            if (!acts)
                acts = json_object_get(o, "action");
            int numeric = json_object_size(o) > 0;
            const char *k;
            json_t *x;
            json_object_foreach(o, k, x) numeric &= json_is_number(x);
            if (acts || numeric) {
                json_decref(best);
                best = o;
                o = NULL;
            }
        }
        json_decref(o);
        from = b > a ? b : a + 1;
    }
    if (!best) {
        if (match(p, R_JSON_TRUNC, 0))
            return fail(res, FEWSHOT_ETRUNCATED, "reply truncated: the \"actions\" list is "
                        "not closed");
        return NOMATCH;
    }
    json_t *acts = json_object_get(best, "actions");
    if (!acts)
        acts = json_object_get(best, "action");
    const json_t *src = acts ? acts : best;
    int rc = 0;
    if (json_is_array(src)) {
        size_t i;
        json_t *x;
        json_array_foreach(src, i, x) if (rc == 0) rc = json_values(p, x, res);
    } else if (json_is_object(src)) {
        /* order by the number in each key when every key has one */
        size_t n = json_object_size(src), i = 0;
        const char *k;
        json_t *x;
        int indexed = n > 0;
        json_object_foreach((json_t *)src, k, x) {
            long idx;
            indexed &= key_index(k, &idx) && idx >= 1 && (size_t)idx <= n;
        }
        if (indexed) {
            for (size_t want = 1; rc == 0 && want <= n; want++) {
                int got = 0;
                json_object_foreach((json_t *)src, k, x) {
                    long idx;
                    if (rc == 0 && !got && key_index(k, &idx) && (size_t)idx == want) {
                        rc = json_values(p, x, res);
                        got = 1;
                    }
                }
                if (!got && rc == 0)
                    rc = fail(res, FEWSHOT_EMISMATCH, "no value for element %zu", want);
            }
        } else {
            json_object_foreach((json_t *)src, k, x) if (rc == 0) rc = json_values(p, x, res);
            (void)i;
        }
    } else {
        rc = json_values(p, src, res);
    }
    json_decref(best);
    return rc;
}

/* Offset just past the last "Actions:" label, or -1. */
static long last_label(fewshot_parser *p)
{
    long last = -1;
    size_t from = 0;
    while (match(p, R_ACTIONS, from)) {
        last = (long)ov(p, 1);
        from = ov(p, 1);
    }
    return last;
}

static int try_actions(fewshot_parser *p, fewshot_parse_result *res)
{
    long at = last_label(p);
    if (at < 0)
        return NOMATCH;
    const char *s = p->work + at, *end = p->work + p->worklen;
    while (s < end && is_ws(*s))
        s++;
    if (s == end)
        return fail(res, FEWSHOT_ETRUNCATED, "reply truncated: nothing after 'Actions:'");
    if (*s == '[') {
        const char *close = memchr(s, ']', (size_t)(end - s));
        const char *nested = memchr(s + 1, '[', (size_t)(end - s - 1));
        if (nested && (!close || nested < close))
            return NOMATCH;     /* [[...]]: leave it to json/list */
        if (!close)
            return fail(res, FEWSHOT_ETRUNCATED, "reply truncated: '[' after 'Actions:' is "
                        "not closed");
        return parse_list(p, s + 1, (size_t)(close - s - 1), res);
    }
    if (*s == '{')
        return NOMATCH;         /* a JSON object: the json pattern's */
    /* "a, b, c" on the label's line */
    const char *eol = memchr(s, '\n', (size_t)(end - s));
    size_t n = eol ? (size_t)(eol - s) : (size_t)(end - s);
    while (n && (is_ws(s[n - 1]) || s[n - 1] == '.'))
        n--;
    double x;
    if (!scan_number(s, n, &x) && !(n && (*s == '-' || *s == '+')))
        return NOMATCH;         /* "Actions: Room 1: 40" or prose: another pattern's */
    return parse_list(p, s, n, res);
}

static int try_list(fewshot_parser *p, fewshot_parse_result *res)
{
    /* the last list whose elements all parse */
    size_t from = 0;
    long a = -1, b = -1;
    fewshot_parse_result tmp = {0};
    while (match(p, R_LIST, from)) {
        size_t s = ov(p, 2), e = ov(p, 3);
        size_t keep = p->nvalues;
        if (parse_list(p, p->work + s, e - s, &tmp) == 0) {
            a = (long)s;
            b = (long)e;
        }
        p->nvalues = keep;
        from = ov(p, 1);
    }
    if (a < 0) {
        /* an unclosed '[' followed only by numbers: cut off */
        const char *open = NULL;
        for (const char *q = p->work; q < p->work + p->worklen; q++)
            if (*q == '[')
                open = q;
            else if (*q == ']')
                open = NULL;
        if (open && strspn(open + 1, "0123456789.,;-+% \t\r\n") == strlen(open + 1) &&
            strlen(open + 1) > 0)
            return fail(res, FEWSHOT_ETRUNCATED, "reply truncated: '[' is not closed");
        return NOMATCH;
    }
    return parse_list(p, p->work + a, (size_t)(b - a), res);
}

static int first_number(fewshot_parser *p, const char *s, size_t n, fewshot_parse_result *res)
{
    /* the first number token on a line, with its range and '%' */
    for (size_t i = 0; i < n; i++) {
        double x;
        if ((i == 0 || (!((s[i - 1] | 0x20) >= 'a' && (s[i - 1] | 0x20) <= 'z') &&
                        s[i - 1] != '.' && !(s[i - 1] >= '0' && s[i - 1] <= '9'))) &&
            scan_number(s + i, n - i, &x)) {
            size_t e = i + scan_number(s + i, n - i, &x);
            /* extend over a range */
            size_t j = e;
            while (j < n && (s[j] == ' ' || s[j] == '%'))
                j++;
            if (j < n && (s[j] == '-' || s[j] == '~' ||
                          (n - j > 2 && s[j] == 't' && s[j + 1] == 'o' && s[j + 2] == ' '))) {
                size_t k = j + (s[j] == 't' ? 3 : 1);
                while (k < n && s[k] == ' ')
                    k++;
                double y;
                size_t u = scan_number(s + k, n - k, &y);
                if (u && (s[j] != '-' || j == e))
                    e = k + u;
            }
            while (e < n && (s[e] == ' ' || s[e] == '%'))
                e++;
            return parse_element(p, s + i, e - i, res);
        }
        if (s[i] == 'n' || s[i] == 'N' || s[i] == 'i' || s[i] == 'I') {
            size_t w = i;
            while (w < n && ((s[w] | 0x20) >= 'a' && (s[w] | 0x20) <= 'z'))
                w++;
            if (word_ci(s + i, w - i, "nan") || word_ci(s + i, w - i, "inf") ||
                word_ci(s + i, w - i, "infinity"))
                return parse_element(p, s + i, w - i, res);
            i = w;
        }
    }
    return fail(res, FEWSHOT_EPARSE, "element %zu has no value", p->nvalues + 1);
}

static int try_lines(fewshot_parser *p, fewshot_parse_result *res)
{
    memset(p->seen, 0, p->dim);
    double *vals = calloc(p->dim, sizeof *vals);
    if (!vals)
        return fail(res, FEWSHOT_ENOMEM, "out of memory");
    size_t from = 0, found = 0, beyond = 0;
    int rc = 0;
    while (rc == 0 && match(p, R_LINES, from)) {
        long k = strtol(p->work + ov(p, 2), NULL, 10);
        size_t vs = ov(p, 4), ve = ov(p, 5);
        from = ov(p, 1) > ov(p, 0) ? ov(p, 1) : ov(p, 0) + 1;
        size_t keep = p->nvalues;
        fewshot_parse_result tmp = {0};
        int r = first_number(p, p->work + vs, ve - vs, &tmp);
        if (r && tmp.code == FEWSHOT_EPARSE)
            continue;       /* "Room 1: too warm": not a value line */
        if (r) {
            *res = tmp;
            rc = r;
            break;
        }
        double v = p->values[keep];
        p->nvalues = keep;
        if (k < 1 || (size_t)k > p->dim) {
            beyond++;
            continue;
        }
        if (!p->seen[k - 1])
            found++;
        p->seen[k - 1] = 1;
        vals[k - 1] = v;    /* a later line for the same element wins */
    }
    if (rc == 0 && found == 0 && beyond == 0)
        rc = NOMATCH;
    if (rc == 0) {
        for (size_t i = 0; i < p->dim; i++)
            if (!p->seen[i]) {
                rc = fail(res, FEWSHOT_EMISMATCH, "no value for element %zu (expected %zu "
                          "values, got %zu)", i + 1, p->dim, found);
                break;
            }
    }
    if (rc == 0 && beyond && p->opts.extra_values != FEWSHOT_PARSE_TRUNCATE)
        rc = fail(res, FEWSHOT_EMISMATCH, "expected %zu values, got %zu", p->dim,
                  found + beyond);
    for (size_t i = 0; rc == 0 && i < p->dim; i++)
        add_value(p, vals[i]);
    free(vals);
    return rc;
}

static int try_numbers(fewshot_parser *p, fewshot_parse_result *res)
{
    long at = last_label(p);
    size_t from = at < 0 ? 0 : (size_t)at;
    int rc = 0;
    while (rc == 0 && match(p, R_NUMBER, from)) {
        size_t a = ov(p, 0), b = ov(p, 1);
        rc = parse_element(p, p->work + a, b - a, res);
        from = b > a ? b : a + 1;
    }
    if (rc)
        return rc;
    if (p->nvalues == 0)
        return NOMATCH;
    if (p->nvalues != p->dim)
        return fail(res, FEWSHOT_EMISMATCH, "found %zu numbers, expected %zu", p->nvalues,
                    p->dim);
    return 0;
}

/* ------------------------------------------------------------------ validation */

static void shown(char *buf, size_t size, double v)
{
    fewshot_text_shortest(buf, size, v);
}

static int validate(fewshot_parser *p, double *action, fewshot_parse_result *res, int truncated)
{
    size_t n = p->nvalues;
    res->count = n;
    if (n < p->dim)
        return fail(res, truncated ? FEWSHOT_ETRUNCATED : FEWSHOT_EMISMATCH,
                    "%sexpected %zu values, got %zu", truncated ? "reply truncated: " : "",
                    p->dim, n);
    if (n > p->dim && p->opts.extra_values != FEWSHOT_PARSE_TRUNCATE)
        return fail(res, FEWSHOT_EMISMATCH, "expected %zu values, got %zu", p->dim, n);
    double scale = p->opts.action_scale;
    for (size_t i = 0; i < p->dim; i++) {
        double v = p->values[i];
        char a[40], lo[40], hi[40];
        if (!isfinite(v))
            return fail(res, FEWSHOT_ERANGE, "value %zu is not finite", i + 1);
        if (p->integers && v != floor(v)) {
            if (p->opts.non_integer == FEWSHOT_PARSE_REJECT) {
                shown(a, sizeof a, v);
                return fail(res, FEWSHOT_EPARSE, "value %zu (%s) is not an integer", i + 1, a);
            }
            v = fewshot_text_round(v);
            res->rounded++;
        }
        double x = v / scale;
        if (p->integer_space && x != floor(x)) {
            x = fewshot_text_round(x);
            res->rounded++;
        }
        if (x < p->low[i] || x > p->high[i]) {
            res->out_of_range++;
            if (p->opts.out_of_range == FEWSHOT_PARSE_REJECT) {
                shown(a, sizeof a, v);
                shown(lo, sizeof lo, p->low[i] * scale);
                shown(hi, sizeof hi, p->high[i] * scale);
                return fail(res, FEWSHOT_ERANGE, "value %zu (%s) is outside [%s, %s]", i + 1, a,
                            lo, hi);
            }
            x = x < p->low[i] ? p->low[i] : p->high[i];
            res->clamped++;
        }
        p->values[i] = x;
    }
    memcpy(action, p->values, p->dim * sizeof *action);
    return 0;
}

int fewshot_parser_parse(fewshot_parser *p, const char *reply, size_t len, double *action,
                         fewshot_parse_result *res)
{
    *res = (fewshot_parse_result){0};
    if (!p || !action)
        return fewshot_error_set(fail(res, FEWSHOT_EINVAL, "NULL argument"), "parse: %s",
                                 res->reason);
    if (!reply)
        reply = "";
    if (len == (size_t)-1)
        len = strlen(reply);
    int open_think = clean(p, reply, len);
    if (open_think < 0)
        return fewshot_error_set(fail(res, FEWSHOT_ENOMEM, "out of memory"), "parse: %s",
                                 res->reason);
    size_t i = 0;
    while (i < p->worklen && is_ws(p->work[i]))
        i++;
    int rc = NOMATCH;
    if (i == p->worklen) {
        rc = open_think ? fail(res, FEWSHOT_ETRUNCATED, "reply truncated inside <think>")
                        : fail(res, FEWSHOT_EPARSE, "empty reply");
    } else {
        for (size_t k = 0; k < p->norder && rc == NOMATCH; k++) {
            int id = p->order[k];
            p->nvalues = 0;
            res->code = 0;
            res->reason[0] = '\0';
            switch (id) {
            case P_JSON: rc = try_json(p, res); break;
            case P_ACTIONS: rc = try_actions(p, res); break;
            case P_LIST: rc = try_list(p, res); break;
            case P_LINES: rc = try_lines(p, res); break;
            default: rc = try_numbers(p, res); break;
            }
            if (rc != NOMATCH)
                res->pattern = pattern_names[id];
        }
        if (rc == NOMATCH)
            rc = open_think ? fail(res, FEWSHOT_ETRUNCATED, "reply truncated inside <think>")
                            : fail(res, FEWSHOT_EPARSE, "no action found in the reply");
        else if (rc == 0)
            rc = validate(p, action, res, 0);
        else
            res->count = p->nvalues;
    }
    if (rc)
        return fewshot_error_set(rc, "parse: %s", res->reason);
    return 0;
}

void fewshot_parser_set_range(fewshot_parser *p, double lo, double hi)
{
    for (size_t i = 0; p && i < p->dim; i++) {
        /* NaN (no instruction) leaves the box; a range never widens it */
        p->low[i] = lo == lo ? fmax(lo, p->box_low[i]) : p->box_low[i];
        p->high[i] = hi == hi ? fmin(hi, p->box_high[i]) : p->box_high[i];
        if (p->low[i] > p->high[i]) {
            p->low[i] = p->box_low[i];
            p->high[i] = p->box_high[i];
        }
    }
}

/* ------------------------------------------------------------------ after a failure */

static void bounds(const fewshot_parser *p, double *lo, double *hi)
{
    *lo = INFINITY;
    *hi = -INFINITY;
    for (size_t i = 0; i < p->dim; i++) {
        *lo = fmin(*lo, p->low[i] * p->opts.action_scale);
        *hi = fmax(*hi, p->high[i] * p->opts.action_scale);
    }
}

int fewshot_parser_reask(const fewshot_parser *p, const fewshot_parse_result *res, char **text)
{
    *text = NULL;
    double lo, hi;
    bounds(p, &lo, &hi);
    char a[40], b[40];
    shown(a, sizeof a, lo);
    shown(b, sizeof b, hi);
    fewshot_text_buf buf = FEWSHOT_TEXT_BUF_INIT;
    int rc = fewshot_text_buf_printf(&buf, "Your reply could not be used: %s. ",
                                     res && res->reason[0] ? res->reason : "no action found");
    if (rc == 0)
        rc = fewshot_text_buf_printf(&buf, "Reply with exactly %zu %s", p->dim,
                                     p->integers ? (p->dim == 1 ? "integer" : "integers")
                                                 : (p->dim == 1 ? "number" : "numbers"));
    if (rc == 0 && isfinite(lo) && isfinite(hi))
        rc = fewshot_text_buf_printf(&buf, " from %s to %s", a, b);
    if (rc == 0)
        rc = fewshot_text_buf_printf(&buf, "%s, as: Actions: [", p->dim > 1 ? ", in order" : "");
    for (size_t i = 0; rc == 0 && i < p->dim && i < 3; i++)
        rc = fewshot_text_buf_printf(&buf, "%s%c", i ? ", " : "", (char)('a' + i));
    if (rc == 0)
        rc = fewshot_text_buf_puts(&buf, p->dim > 3 ? ", ...]" : "]");
    if (rc) {
        fewshot_text_buf_free(&buf);
        return rc;
    }
    *text = fewshot_text_buf_detach(&buf);
    return 0;
}

int fewshot_parser_fallback(const fewshot_parser *p, const double *last, const double *expert,
                            double *action, fewshot_parse_result *res)
{
    const double *src = NULL;
    const char *name;
    switch (p->opts.fallback) {
    case FEWSHOT_FALLBACK_HOLD:
        src = last;
        name = "hold";
        break;
    case FEWSHOT_FALLBACK_EXPERT:
        src = expert;
        name = "expert";
        break;
    case FEWSHOT_FALLBACK_ZERO:
        name = "zero";
        break;
    default:
        return fewshot_error_set(FEWSHOT_EUNSUPPORTED, "parse: no fallback configured");
    }
    if (!src)
        name = "zero";
    for (size_t i = 0; i < p->dim; i++) {
        double v = src ? src[i] : 0.0;
        if (!isfinite(v))
            v = 0.0;
        action[i] = fmin(fmax(v, p->low[i]), p->high[i]);
    }
    if (res)
        res->fallback = name;
    return 0;
}

int fewshot_parser_schema(const fewshot_parser *p, json_t **schema)
{
    double lo, hi;
    bounds(p, &lo, &hi);
    json_t *items = json_pack("{s:s}", "type", p->integers ? "integer" : "number");
    if (items && isfinite(lo))
        json_object_set_new(items, "minimum", p->integers ? json_integer((json_int_t)ceil(lo))
                                                          : json_real(lo));
    if (items && isfinite(hi))
        json_object_set_new(items, "maximum", p->integers ? json_integer((json_int_t)floor(hi))
                                                          : json_real(hi));
    *schema = json_pack("{s:s, s:{s:{s:s, s:o, s:I, s:I}}, s:[s], s:b}", "type", "object",
                        "properties", "actions", "type", "array", "items", items, "minItems",
                        (json_int_t)p->dim, "maxItems", (json_int_t)p->dim, "required",
                        "actions", "additionalProperties", 0);
    return *schema ? 0 : fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
}

int fewshot_parser_response_format(const fewshot_parser *p, json_t **out)
{
    json_t *schema;
    int rc = fewshot_parser_schema(p, &schema);
    if (rc)
        return rc;
    *out = json_pack("{s:s, s:{s:s, s:b, s:o}}", "type", "json_schema", "json_schema", "name",
                     "actions", "strict", 1, "schema", schema);
    return *out ? 0 : fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
}
