/*
 * Mustache templates: a compiler from text to a tree, and a renderer over jansson values.
 *
 * Partials are compiled on first use, already indented when their tag stands alone on its
 * line (the spec indents every line of the partial's text, not interpolated values), and
 * cached per (name, indentation) in the template.
 */
#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fewshot/error.h"
#include "fewshot/template.h"
#include "internal.h"

enum { N_TEXT, N_VAR, N_RAW, N_SECTION, N_INVERTED, N_PARTIAL };

typedef struct node node;
typedef struct nodes {
    node *v;
    size_t n, cap;
} nodes;

struct node {
    int kind;
    const char *s;          /* TEXT: into the tree's source; others: owned name */
    size_t len;
    char **parts;           /* dotted name; nparts 0 means "." */
    size_t nparts;
    nodes kids;             /* SECTION, INVERTED */
    char *indent;           /* PARTIAL standing alone: its indentation */
};

typedef struct tree {
    char *src;
    size_t len;
    nodes root;
} tree;

typedef struct partial {
    char *key;              /* name '\n' indent */
    tree *t;
} partial;

struct fewshot_template {
    tree *main;
    int escape;
    char *name;
    json_t *partials;
    char *partials_dir;
    fewshot_template_partial_fn loader;
    void *loader_data;
    size_t max_output;
    unsigned int max_depth;
    partial *cache;
    size_t ncache, capcache;
};

/* ------------------------------------------------------------------ trees */

static void nodes_free(nodes *ns);

static void node_free(node *n)
{
    if (n->kind != N_TEXT)
        free((char *)n->s);
    for (size_t i = 0; i < n->nparts; i++)
        free(n->parts[i]);
    free(n->parts);
    nodes_free(&n->kids);
    free(n->indent);
}

static void nodes_free(nodes *ns)
{
    for (size_t i = 0; i < ns->n; i++)
        node_free(&ns->v[i]);
    free(ns->v);
    ns->v = NULL;
    ns->n = ns->cap = 0;
}

static void tree_free(tree *t)
{
    if (!t)
        return;
    nodes_free(&t->root);
    free(t->src);
    free(t);
}

static int nodes_push(nodes *ns, const node *n)
{
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 8;
        node *v = realloc(ns->v, cap * sizeof *v);
        if (!v)
            return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        ns->v = v;
        ns->cap = cap;
    }
    ns->v[ns->n++] = *n;
    return 0;
}

/* ------------------------------------------------------------------ compiler */

typedef struct frame {
    nodes kids;
    char *name;
    size_t offset;          /* of the opening tag */
    int kind;
} frame;

typedef struct compiler {
    const char *src;
    size_t len;
    const char *file;
    char otag[33], ctag[33];
    size_t olen, clen;
    frame *stack;
    size_t depth, cap;
    nodes root;
} compiler;

static int error_at(const compiler *c, size_t offset, const char *fmt, ...) FEWSHOT_PRINTF(3, 4);

static int error_at(const compiler *c, size_t offset, const char *fmt, ...)
{
    int line = 1, col = 1;
    for (size_t i = 0; i < offset && i < c->len; i++) {
        if (c->src[i] == '\n') {
            line++;
            col = 1;
        } else {
            col++;
        }
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return fewshot_error_set_at(FEWSHOT_EPARSE, c->file ? c->file : "", line, col, "%s", msg);
}

static const char *find(const char *hay, size_t haylen, const char *needle, size_t nlen)
{
    if (nlen == 0 || haylen < nlen)
        return NULL;
    const char *end = hay + haylen - nlen;
    for (const char *p = hay; p <= end; p++) {
        p = memchr(p, needle[0], (size_t)(end - p) + 1);
        if (!p)
            return NULL;
        if (memcmp(p, needle, nlen) == 0)
            return p;
    }
    return NULL;
}

static int is_blank(char ch)
{
    return ch == ' ' || ch == '\t';
}

static int is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' || ch == '\v' || ch == '\f';
}

static nodes *current(compiler *c)
{
    return c->depth ? &c->stack[c->depth - 1].kids : &c->root;
}

static int split_name(node *n, const char *name, size_t len)
{
    if (len == 1 && name[0] == '.')
        return 0;
    size_t parts = 1;
    for (size_t i = 0; i < len; i++)
        parts += name[i] == '.';
    n->parts = calloc(parts, sizeof *n->parts);
    if (!n->parts)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    size_t start = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i == len || name[i] == '.') {
            n->parts[n->nparts] = strndup(name + start, i - start);
            if (!n->parts[n->nparts])
                return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
            n->nparts++;
            start = i + 1;
        }
    }
    return 0;
}

/* Check a tag's name: non-empty, no inner blanks, no empty dotted part. */
static int check_name(const compiler *c, size_t offset, const char *name, size_t len,
                      int allow_dot)
{
    if (len == 0)
        return error_at(c, offset, "empty tag");
    if (len == 1 && name[0] == '.' && allow_dot)
        return 0;
    for (size_t i = 0; i < len; i++) {
        if (is_space(name[i]))
            return error_at(c, offset, "bad tag: blank inside the name");
        if (name[i] == '.' && (i == 0 || i == len - 1 || name[i + 1] == '.') && allow_dot)
            return error_at(c, offset, "bad tag: empty part in dotted name");
    }
    return 0;
}

static int set_delimiters(compiler *c, size_t offset, const char *s, size_t len)
{
    while (len && is_space(*s)) {
        s++;
        len--;
    }
    while (len && is_space(s[len - 1]))
        len--;
    size_t a = 0;
    while (a < len && !is_space(s[a]))
        a++;
    size_t b = a;
    while (b < len && is_space(s[b]))
        b++;
    size_t blen = len - b;
    if (a == 0 || blen == 0 || a > 32 || blen > 32 || memchr(s, '=', a) ||
        memchr(s + b, '=', blen))
        return error_at(c, offset, "bad set-delimiter tag: expected {{=OPEN CLOSE=}}");
    for (size_t i = b; i < len; i++)
        if (is_space(s[i]))
            return error_at(c, offset, "bad set-delimiter tag: expected {{=OPEN CLOSE=}}");
    memcpy(c->otag, s, a);
    c->otag[a] = '\0';
    c->olen = a;
    memcpy(c->ctag, s + b, blen);
    c->ctag[blen] = '\0';
    c->clen = blen;
    return 0;
}

static int push_text(compiler *c, size_t from, size_t to)
{
    if (to <= from)
        return 0;
    nodes *ns = current(c);
    /* merge adjacent text (standalone lines split it) */
    if (ns->n && ns->v[ns->n - 1].kind == N_TEXT &&
        ns->v[ns->n - 1].s + ns->v[ns->n - 1].len == c->src + from) {
        ns->v[ns->n - 1].len += to - from;
        return 0;
    }
    node n = {.kind = N_TEXT, .s = c->src + from, .len = to - from};
    return nodes_push(ns, &n);
}

static int open_section(compiler *c, int kind, size_t offset, const char *name, size_t len)
{
    if (c->depth == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 8;
        frame *st = realloc(c->stack, cap * sizeof *st);
        if (!st)
            return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        c->stack = st;
        c->cap = cap;
    }
    frame *f = &c->stack[c->depth];
    *f = (frame){.offset = offset, .kind = kind, .name = strndup(name, len)};
    if (!f->name)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    c->depth++;
    return 0;
}

static int close_section(compiler *c, size_t offset, const char *name, size_t len)
{
    if (c->depth == 0) {
        char tmp[80];
        snprintf(tmp, sizeof tmp, "%.*s", (int)(len > 60 ? 60 : len), name);
        return error_at(c, offset, "closing tag '%s' without an open section", tmp);
    }
    frame *f = &c->stack[c->depth - 1];
    if (strlen(f->name) != len || memcmp(f->name, name, len) != 0) {
        char tmp[200];
        snprintf(tmp, sizeof tmp, "'%.*s' closes section '%.60s'", (int)(len > 60 ? 60 : len),
                 name, f->name);
        return error_at(c, offset, "mismatched closing tag: %s", tmp);
    }
    node n = {.kind = f->kind, .s = f->name, .len = len, .kids = f->kids};
    c->depth--;
    int rc = split_name(&n, name, len);
    if (rc == 0)
        rc = nodes_push(current(c), &n);
    if (rc)
        node_free(&n);
    return rc;
}

static int add_tag(compiler *c, int kind, size_t offset, const char *name, size_t len,
                   const char *indent, size_t ilen)
{
    node n = {.kind = kind, .s = strndup(name, len), .len = len};
    int rc = n.s ? 0 : fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    if (rc == 0 && kind != N_PARTIAL)
        rc = split_name(&n, name, len);
    if (rc == 0 && kind == N_PARTIAL && ilen) {
        n.indent = strndup(indent, ilen);
        if (!n.indent)
            rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    if (rc == 0)
        rc = nodes_push(current(c), &n);
    if (rc)
        node_free(&n);
    return rc;
}

static int compile(compiler *c)
{
    const char *src = c->src;
    size_t len = c->len, pos = 0, text_start = 0;
    for (;;) {
        const char *p = find(src + pos, len - pos, c->otag, c->olen);
        if (!p)
            return push_text(c, text_start, len);
        size_t tag = (size_t)(p - src), after = tag + c->olen;
        char type = after < len ? src[after] : '\0';
        const char *close;
        size_t inner = after, inner_end, tag_end;
        if (strchr("!#^/>={&", type) && type)
            inner++;
        if (type == '{' || type == '=') {
            /* the closing needs the mirror character right before the delimiter */
            char mirror[34];
            mirror[0] = type == '{' ? '}' : '=';
            memcpy(mirror + 1, c->ctag, c->clen + 1);
            close = find(src + inner, len - inner, mirror, c->clen + 1);
            if (!close)
                return error_at(c, tag, "unclosed tag: no '%s' after it", mirror);
            inner_end = (size_t)(close - src);
            tag_end = inner_end + c->clen + 1;
        } else {
            close = find(src + inner, len - inner, c->ctag, c->clen);
            if (!close)
                return error_at(c, tag, "unclosed tag: no '%s' after it", c->ctag);
            inner_end = (size_t)(close - src);
            tag_end = inner_end + c->clen;
        }
        /* the name, trimmed */
        const char *name = src + inner;
        size_t nlen = inner_end - inner;
        while (nlen && is_space(*name)) {
            name++;
            nlen--;
        }
        while (nlen && is_space(name[nlen - 1]))
            nlen--;

        /* standalone: only blanks around the tag on its line, which then disappears */
        size_t text_end = tag, next = tag_end;
        const char *indent = NULL;
        size_t ilen = 0;
        if (type && strchr("!#^/>=", type)) {
            size_t ls = tag;
            while (ls > 0 && is_blank(src[ls - 1]))
                ls--;
            if (ls == 0 || src[ls - 1] == '\n') {
                size_t e = tag_end;
                while (e < len && is_blank(src[e]))
                    e++;
                size_t nl = 0;
                if (e == len)
                    nl = 0;
                else if (src[e] == '\n')
                    nl = 1;
                else if (src[e] == '\r' && e + 1 < len && src[e + 1] == '\n')
                    nl = 2;
                if (e == len || nl) {
                    if (ls >= text_start) {
                        text_end = ls;
                        indent = src + ls;
                        ilen = tag - ls;
                    }
                    next = e + nl;
                }
            }
        }
        int rc = push_text(c, text_start, text_end);
        if (rc)
            return rc;
        switch (type) {
        case '!':
            break;
        case '#':
        case '^':
            rc = check_name(c, tag, name, nlen, 1);
            if (rc == 0)
                rc = open_section(c, type == '#' ? N_SECTION : N_INVERTED, tag, name, nlen);
            break;
        case '/':
            rc = check_name(c, tag, name, nlen, 1);
            if (rc == 0)
                rc = close_section(c, tag, name, nlen);
            break;
        case '>':
            rc = check_name(c, tag, name, nlen, 0);
            if (rc == 0)
                rc = add_tag(c, N_PARTIAL, tag, name, nlen, indent, ilen);
            break;
        case '=':
            rc = set_delimiters(c, tag, src + inner, inner_end - inner);
            break;
        case '{':
        case '&':
            rc = check_name(c, tag, name, nlen, 1);
            if (rc == 0)
                rc = add_tag(c, N_RAW, tag, name, nlen, NULL, 0);
            break;
        default:
            rc = check_name(c, tag, name, nlen, 1);
            if (rc == 0)
                rc = add_tag(c, N_VAR, tag, name, nlen, NULL, 0);
        }
        if (rc)
            return rc;
        pos = text_start = next;
    }
}

static int tree_compile(tree **out, const char *text, size_t len, const char *file)
{
    *out = NULL;
    tree *t = calloc(1, sizeof *t);
    if (!t || !(t->src = malloc(len + 1))) {
        free(t);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    memcpy(t->src, text, len);
    t->src[len] = '\0';
    t->len = len;
    compiler c = {.src = t->src, .len = len, .file = file, .otag = "{{", .ctag = "}}",
                  .olen = 2, .clen = 2};
    int rc = compile(&c);
    if (rc == 0 && c.depth) {
        frame *f = &c.stack[c.depth - 1];
        rc = error_at(&c, f->offset, "unclosed section '%s'", f->name);
    }
    for (size_t i = 0; i < c.depth; i++) {
        nodes_free(&c.stack[i].kids);
        free(c.stack[i].name);
    }
    free(c.stack);
    t->root = c.root;
    if (rc) {
        tree_free(t);
        return rc;
    }
    *out = t;
    return 0;
}

/* ------------------------------------------------------------------ public: compile */

int fewshot_template_options_init(fewshot_template_options *opts, unsigned int version)
{
    if (version != FEWSHOT_TEMPLATE_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "template options version %u is not supported",
                                 version);
    *opts = (fewshot_template_options)FEWSHOT_TEMPLATE_OPTIONS_INIT;
    return 0;
}

int fewshot_template_new(fewshot_template **out, const char *text, size_t len,
                         const fewshot_template_options *opts)
{
    *out = NULL;
    if (!text)
        return fewshot_error_set(FEWSHOT_EINVAL, "template: no text");
    if (opts && opts->version != FEWSHOT_TEMPLATE_OPTIONS_VERSION)
        return fewshot_error_set(FEWSHOT_EINVAL, "template options version %u is not supported",
                                 opts->version);
    if (len == (size_t)-1)
        len = strlen(text);
    fewshot_template *tpl = calloc(1, sizeof *tpl);
    if (!tpl)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    if (opts) {
        tpl->escape = opts->escape;
        tpl->name = opts->name ? strdup(opts->name) : NULL;
        tpl->partials = opts->partials ? json_incref((json_t *)opts->partials) : NULL;
        tpl->partials_dir = opts->partials_dir ? strdup(opts->partials_dir) : NULL;
        tpl->loader = opts->partial;
        tpl->loader_data = opts->partial_data;
        tpl->max_output = opts->max_output;
        tpl->max_depth = opts->max_depth;
    }
    if (!tpl->max_output)
        tpl->max_output = (size_t)64 << 20;
    if (!tpl->max_depth)
        tpl->max_depth = 100;
    int rc = tree_compile(&tpl->main, text, len, tpl->name);
    if (rc) {
        fewshot_template_free(tpl);
        return rc;
    }
    *out = tpl;
    return 0;
}

void fewshot_template_free(fewshot_template *tpl)
{
    if (!tpl)
        return;
    tree_free(tpl->main);
    for (size_t i = 0; i < tpl->ncache; i++) {
        free(tpl->cache[i].key);
        tree_free(tpl->cache[i].t);
    }
    free(tpl->cache);
    free(tpl->name);
    json_decref(tpl->partials);
    free(tpl->partials_dir);
    free(tpl);
}

/* ------------------------------------------------------------------ partials */

#define TEMPLATE_FILE_MAX (64 << 20)

static int read_file(const char *path, char **text, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        if (errno == ENOENT)
            return 0;
        return fewshot_error_set(FEWSHOT_EIO, "%s: %s", path, strerror(errno));
    }
    fewshot_text_buf buf = FEWSHOT_TEXT_BUF_INIT;
    char chunk[4096];
    size_t n;
    int rc = 0;
    while (rc == 0 && (n = fread(chunk, 1, sizeof chunk, f)) > 0) {
        if (buf.len + n > TEMPLATE_FILE_MAX)     /* /dev/zero must not fill memory */
            rc = fewshot_error_set(FEWSHOT_ERANGE, "%s: larger than %d MiB: not a template",
                                   path, TEMPLATE_FILE_MAX >> 20);
        else
            rc = fewshot_text_buf_append(&buf, chunk, n);
    }
    if (rc == 0 && ferror(f))
        rc = fewshot_error_set(FEWSHOT_EIO, "%s: read error", path);
    fclose(f);
    if (rc) {
        fewshot_text_buf_free(&buf);
        return rc;
    }
    *len = buf.len;
    *text = fewshot_text_buf_detach(&buf);
    return 0;
}

static int load_partial(fewshot_template *tpl, const char *name, char **text, size_t *len)
{
    *text = NULL;
    *len = 0;
    json_t *s = tpl->partials ? json_object_get(tpl->partials, name) : NULL;
    if (json_is_string(s)) {
        *len = json_string_length(s);
        *text = malloc(*len + 1);
        if (!*text)
            return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        memcpy(*text, json_string_value(s), *len + 1);
        return 0;
    }
    if (tpl->partials_dir) {
        if (strstr(name, "..") || name[0] == '/')
            return fewshot_error_set(FEWSHOT_EINVAL, "partial name '%s' leaves the partials "
                                     "directory", name);
        size_t need = strlen(tpl->partials_dir) + strlen(name) + 12;
        char *path = malloc(need);
        if (!path)
            return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        snprintf(path, need, "%s/%s.mustache", tpl->partials_dir, name);
        int rc = read_file(path, text, len);
        free(path);
        if (rc || *text)
            return rc;
    }
    if (tpl->loader) {
        int rc = tpl->loader(tpl->loader_data, name, text);
        if (rc)
            return rc;
        if (*text)
            *len = strlen(*text);
    }
    return 0;
}

/* The partial's text with indent before every line (a line ends at '\n'; a final newline
 * starts no new line). */
static char *indent_text(const char *text, size_t len, const char *indent, size_t *outlen)
{
    size_t ilen = strlen(indent), lines = 1;
    for (size_t i = 0; i + 1 < len; i++)
        lines += text[i] == '\n';
    char *out = malloc(len + lines * ilen + 1);
    if (!out)
        return NULL;
    size_t o = 0;
    int at_start = 1;
    for (size_t i = 0; i < len; i++) {
        if (at_start) {
            memcpy(out + o, indent, ilen);
            o += ilen;
            at_start = 0;
        }
        out[o++] = text[i];
        if (text[i] == '\n' && i + 1 < len)
            at_start = 1;
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

static int get_partial(fewshot_template *tpl, const node *n, tree **out)
{
    const char *indent = n->indent ? n->indent : "";
    size_t klen = strlen(n->s) + strlen(indent) + 2;
    char *key = malloc(klen);
    if (!key)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    snprintf(key, klen, "%s\n%s", n->s, indent);
    for (size_t i = 0; i < tpl->ncache; i++)
        if (strcmp(tpl->cache[i].key, key) == 0) {
            free(key);
            *out = tpl->cache[i].t;
            return 0;
        }
    char *text;
    size_t len = 0;
    int rc = load_partial(tpl, n->s, &text, &len);
    if (rc == 0 && text && *indent) {
        size_t ilen = 0;
        char *ind = indent_text(text, len, indent, &ilen);
        free(text);
        text = ind;
        len = ilen;
        if (!ind)
            rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    tree *t = NULL;
    if (rc == 0)
        rc = tree_compile(&t, text ? text : "", text ? len : 0, n->s);
    free(text);
    if (rc == 0 && tpl->ncache == tpl->capcache) {
        size_t cap = tpl->capcache ? tpl->capcache * 2 : 4;
        partial *c = realloc(tpl->cache, cap * sizeof *c);
        if (!c)
            rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        else {
            tpl->cache = c;
            tpl->capcache = cap;
        }
    }
    if (rc) {
        free(key);
        tree_free(t);
        return rc;
    }
    tpl->cache[tpl->ncache++] = (partial){key, t};
    *out = t;
    return 0;
}

/* ------------------------------------------------------------------ renderer */

typedef struct render {
    fewshot_template *tpl;
    fewshot_text_buf *out;
    size_t start;           /* out->len when rendering began */
    const json_t **stack;
    size_t depth;
    unsigned int nest;
    size_t base;            /* contexts given by the caller */
    const fewshot_text_options *numbers;
} render;

static int emit(render *r, const char *s, size_t len)
{
    if (r->out->len - r->start + len > r->tpl->max_output)
        return fewshot_error_set(FEWSHOT_ERANGE, "template output exceeds %zu bytes",
                                 r->tpl->max_output);
    return fewshot_text_buf_append(r->out, s, len);
}

static int emit_escaped(render *r, const char *s, size_t len)
{
    size_t from = 0;
    for (size_t i = 0; i < len; i++) {
        const char *rep;
        switch (s[i]) {
        case '&': rep = "&amp;"; break;
        case '<': rep = "&lt;"; break;
        case '>': rep = "&gt;"; break;
        case '"': rep = "&quot;"; break;
        default: continue;
        }
        int rc = emit(r, s + from, i - from);
        if (rc == 0)
            rc = emit(r, rep, strlen(rep));
        if (rc)
            return rc;
        from = i + 1;
    }
    return emit(r, s + from, len - from);
}

static const json_t *lookup(const render *r, const node *n)
{
    if (n->nparts == 0)
        return r->stack[r->depth - 1];
    const json_t *v = NULL;
    for (size_t i = r->depth; i-- > 0;) {
        if (json_is_object(r->stack[i])) {
            v = json_object_get(r->stack[i], n->parts[0]);
            if (v)
                break;
        }
    }
    for (size_t p = 1; v && p < n->nparts; p++)
        v = json_is_object(v) ? json_object_get(v, n->parts[p]) : NULL;
    return v;
}

static int falsy(const json_t *v)
{
    return !v || json_is_null(v) || json_is_false(v) ||
           (json_is_string(v) && json_string_length(v) == 0) ||
           (json_is_array(v) && json_array_size(v) == 0);
}

static int emit_value(render *r, const json_t *v, int escape)
{
    char tmp[64];
    switch (json_typeof(v)) {
    case JSON_STRING:
        return escape ? emit_escaped(r, json_string_value(v), json_string_length(v))
                      : emit(r, json_string_value(v), json_string_length(v));
    case JSON_INTEGER: {
        /* what "%" JSON_INTEGER_FORMAT prints, without printf (rooms, steps and indices are
         * integers: a prompt has hundreds) */
        json_int_t x = json_integer_value(v);
        unsigned long long u = x < 0 ? 0ULL - (unsigned long long)x : (unsigned long long)x;
        char *end = tmp + sizeof tmp, *p = end;
        do {
            *--p = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        if (x < 0)
            *--p = '-';
        return emit(r, p, (size_t)(end - p));
    }
    case JSON_REAL:
        if (r->numbers)
            fewshot_text_number(tmp, sizeof tmp, json_real_value(v), r->numbers);
        else
            fewshot_text_shortest(tmp, sizeof tmp, json_real_value(v));
        return emit(r, tmp, strlen(tmp));
    case JSON_TRUE:
        return emit(r, "true", 4);
    case JSON_FALSE:
        return emit(r, "false", 5);
    case JSON_NULL:
        return 0;
    default: {
        char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_REAL_PRECISION(15));
        if (!s)
            return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        int rc = escape ? emit_escaped(r, s, strlen(s)) : emit(r, s, strlen(s));
        free(s);
        return rc;
    }
    }
}

static int render_nodes(render *r, const nodes *ns);

static int push(render *r, const json_t *v)
{
    if (r->depth - r->base >= (size_t)r->tpl->max_depth)
        return fewshot_error_set(FEWSHOT_ERANGE, "template nesting deeper than %u",
                                 r->tpl->max_depth);
    r->stack[r->depth++] = v;
    return 0;
}

static int render_node(render *r, const node *n)
{
    const json_t *v;
    int rc;
    switch (n->kind) {
    case N_TEXT:
        return emit(r, n->s, n->len);
    case N_VAR:
    case N_RAW:
        v = lookup(r, n);
        return v ? emit_value(r, v, n->kind == N_VAR &&
                                        r->tpl->escape == FEWSHOT_TEMPLATE_ESCAPE_HTML) : 0;
    case N_SECTION:
        v = lookup(r, n);
        if (falsy(v))
            return 0;
        if (json_is_array(v)) {
            for (size_t i = 0; i < json_array_size(v); i++) {
                if ((rc = push(r, json_array_get(v, i))) != 0)
                    return rc;
                rc = render_nodes(r, &n->kids);
                r->depth--;
                if (rc)
                    return rc;
            }
            return 0;
        }
        if ((rc = push(r, v)) != 0)
            return rc;
        rc = render_nodes(r, &n->kids);
        r->depth--;
        return rc;
    case N_INVERTED:
        v = lookup(r, n);
        return falsy(v) ? render_nodes(r, &n->kids) : 0;
    case N_PARTIAL: {
        tree *t = NULL;
        if (r->nest >= r->tpl->max_depth)
            return fewshot_error_set(FEWSHOT_ERANGE, "partials nested deeper than %u (recursive "
                                     "partial '%s'?)", r->tpl->max_depth, n->s);
        if ((rc = get_partial(r->tpl, n, &t)) != 0)
            return rc;
        r->nest++;
        rc = render_nodes(r, &t->root);
        r->nest--;
        return rc;
    }
    }
    return 0;
}

static int render_nodes(render *r, const nodes *ns)
{
    for (size_t i = 0; i < ns->n; i++) {
        int rc = render_node(r, &ns->v[i]);
        if (rc)
            return rc;
    }
    return 0;
}

int fewshot_template_render_stack(fewshot_template *tpl, const json_t *const *stack, size_t n,
                                  const fewshot_text_options *numbers, fewshot_text_buf *out)
{
    if (!tpl || !out || (n && !stack))
        return fewshot_error_set(FEWSHOT_EINVAL, "template render: NULL argument");
    if (n > 64)
        return fewshot_error_set(FEWSHOT_EINVAL, "template render: more than 64 contexts");
    const json_t *local[128];
    const json_t **st = local;
    size_t need = (size_t)tpl->max_depth + n + 2;
    if (need > sizeof local / sizeof local[0] && !(st = malloc(need * sizeof *st)))
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    render r = {.tpl = tpl, .out = out, .start = out->len, .stack = st, .numbers = numbers};
    json_t *empty = NULL;
    for (size_t i = 0; i < n; i++)
        if (stack[i])
            st[r.depth++] = stack[i];
    if (r.depth == 0)
        st[r.depth++] = empty = json_object();
    r.base = r.depth;
    /* make sure out->data is a string even when nothing is rendered */
    int rc = fewshot_text_buf_append(out, "", 0);
    if (rc == 0)
        rc = render_nodes(&r, &tpl->main->root);
    if (st != local)
        free(st);
    json_decref(empty);
    if (rc && tpl->name)
        fewshot_error_prefix("%s", tpl->name);
    return rc;
}

static int nodes_mention(const nodes *ns, const char *name)
{
    for (size_t i = 0; i < ns->n; i++) {
        const node *n = &ns->v[i];
        if (n->kind == N_TEXT)
            continue;
        /* a partial is read when rendered, "." shows a whole view: either may show it */
        if (n->kind == N_PARTIAL || n->nparts == 0 || strcmp(n->parts[0], name) == 0)
            return 1;
        if ((n->kind == N_SECTION || n->kind == N_INVERTED) && nodes_mention(&n->kids, name))
            return 1;
    }
    return 0;
}

int fewshot__template_mentions(const fewshot_template *tpl, const char *name)
{
    return !tpl || !tpl->main || nodes_mention(&tpl->main->root, name);
}

int fewshot_template_render(fewshot_template *tpl, const json_t *data, fewshot_text_buf *out)
{
    const json_t *stack[1] = {data};
    return fewshot_template_render_stack(tpl, stack, 1, NULL, out);
}

int fewshot_template_render_text(char **out, const char *text, const json_t *data,
                                 const fewshot_template_options *opts)
{
    *out = NULL;
    fewshot_template *tpl;
    int rc = fewshot_template_new(&tpl, text, (size_t)-1, opts);
    if (rc)
        return rc;
    fewshot_text_buf buf = FEWSHOT_TEXT_BUF_INIT;
    rc = fewshot_template_render(tpl, data, &buf);
    fewshot_template_free(tpl);
    if (rc) {
        fewshot_text_buf_free(&buf);
        return rc;
    }
    *out = fewshot_text_buf_detach(&buf);
    return *out ? 0 : fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
}
