/*
 * The EnergyPlus side of the building importer: parse a tabular HTML output file (*.table.htm)
 * with libxml2's HTML parser, find the "Zone Information" table of the Initialization Summary
 * (the table after the bold title of that name) and read the cells by their column headers, so
 * column order and formatting do not matter.
 *
 * The parser runs in SAX mode: the table sits in the first few percent of a report of several
 * megabytes, so we keep only that table's cells and stop the parser when the table closes,
 * instead of building a tree of the whole document.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include "building_internal.h"
#include "fewshot/error.h"

#define TABLE_TITLE "Zone Information"
/* The zone table's text kept while reading: a building of thousands of zones holds a few
 * megabytes; more is not a building's table, and is refused before it fills memory. */
#define MAX_TABLE_TEXT ((size_t)16 << 20)

/* The columns we read, by header text without its unit ("Floor Area" for "Floor Area {m2}"). */
enum column {
    COL_NAME, COL_CZ, COL_XMIN, COL_XMAX, COL_YMIN, COL_YMAX, COL_ZMIN, COL_ZMAX,
    COL_FLOOR, COL_WALL, COL_WINDOW, N_COLUMNS
};
static const char *const column_titles[N_COLUMNS] = {
    "Zone Name", "Centroid Z-Coordinate", "Minimum X", "Maximum X", "Minimum Y", "Maximum Y",
    "Minimum Z", "Maximum Z", "Floor Area", "Exterior Net Wall Area", "Exterior Window Area",
};

/* ------------------------------------------------------------------ collecting the table */

typedef struct text {
    char *data;
    size_t len, cap;
} text;

typedef struct cell {
    char *text;    /* trimmed */
    int line;
} cell;

typedef struct row {
    cell *cells;
    size_t n, cap;
    int line;
} row;

enum stage { SEEK_TITLE, SEEK_TABLE, IN_TABLE, DONE };

typedef struct collector {
    htmlParserCtxtPtr ctxt;
    enum stage stage;
    int in_title;      /* inside <b> while seeking the title */
    int depth;         /* <table> nesting inside the zone table */
    int in_cell;
    int cell_line;     /* line of the open cell */
    int table_line;
    text buf;
    row *rows;
    size_t n_rows, cap_rows;
    size_t kept;       /* bytes of table text kept so far */
    int oom, too_big;
} collector;

static int line_now(const collector *c)
{
    return c->ctxt && c->ctxt->input ? c->ctxt->input->line : 0;
}

static void text_add(collector *c, const char *s, size_t n)
{
    /* titles are taken one by one; the table's cells stay until the end */
    size_t kept = c->stage == IN_TABLE ? c->kept : c->buf.len;
    if (c->too_big || n > MAX_TABLE_TEXT - kept) {
        c->too_big = 1;
        return;
    }
    if (c->stage == IN_TABLE)
        c->kept += n;
    if (c->buf.len + n + 1 > c->buf.cap) {
        size_t cap = c->buf.cap ? c->buf.cap : 64;
        while (cap < c->buf.len + n + 1)
            cap *= 2;
        char *grown = realloc(c->buf.data, cap);
        if (!grown) {
            c->oom = 1;
            return;
        }
        c->buf.data = grown;
        c->buf.cap = cap;
    }
    memcpy(c->buf.data + c->buf.len, s, n);
    c->buf.len += n;
    c->buf.data[c->buf.len] = '\0';
}

/* The collected text with surrounding white space removed (malloc'd). */
static char *text_take(collector *c)
{
    const char *s = c->buf.data ? c->buf.data : "";
    size_t len = c->buf.len;
    while (len && strchr(" \t\r\n", *s)) {
        s++;
        len--;
    }
    while (len && strchr(" \t\r\n", s[len - 1]))
        len--;
    char *out = strndup(s, len);
    if (!out)
        c->oom = 1;
    c->buf.len = 0;
    return out;
}

static int is(const xmlChar *name, const char *tag)
{
    return strcasecmp((const char *)name, tag) == 0;
}

static row *add_row(collector *c, int line)
{
    if (c->n_rows == c->cap_rows) {
        size_t cap = c->cap_rows ? 2 * c->cap_rows : 16;
        row *grown = realloc(c->rows, cap * sizeof *grown);
        if (!grown) {
            c->oom = 1;
            return NULL;
        }
        c->rows = grown;
        c->cap_rows = cap;
    }
    row *r = &c->rows[c->n_rows++];
    *r = (row){.line = line};
    return r;
}

static void add_cell(collector *c, char *value, int line)
{
    row *r = c->n_rows ? &c->rows[c->n_rows - 1] : add_row(c, line);
    if (!r || !value) {
        free(value);
        return;
    }
    if (r->n == r->cap) {
        size_t cap = r->cap ? 2 * r->cap : 32;
        cell *grown = realloc(r->cells, cap * sizeof *grown);
        if (!grown) {
            c->oom = 1;
            free(value);
            return;
        }
        r->cells = grown;
        r->cap = cap;
    }
    r->cells[r->n++] = (cell){value, line};
}

static void on_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
    collector *c = ctx;
    switch (c->stage) {
    case SEEK_TITLE:
        if (is(name, "b")) {
            c->in_title = 1;
            c->buf.len = 0;
        }
        break;
    case SEEK_TABLE:
        if (is(name, "table")) {
            c->stage = IN_TABLE;
            c->depth = 1;
            c->table_line = line_now(c);
        }
        break;
    case IN_TABLE:
        if (is(name, "table"))
            c->depth++;
        else if (c->depth == 1 && is(name, "tr"))
            add_row(c, line_now(c));
        else if (c->depth == 1 && (is(name, "td") || is(name, "th"))) {
            c->in_cell = 1;
            c->buf.len = 0;
            c->cell_line = line_now(c);
        }
        break;
    case DONE:
        break;
    }
}

static void on_end(void *ctx, const xmlChar *name)
{
    collector *c = ctx;
    if (c->stage == SEEK_TITLE && c->in_title && is(name, "b")) {
        c->in_title = 0;
        char *title = text_take(c);
        if (title && strcmp(title, TABLE_TITLE) == 0)
            c->stage = SEEK_TABLE;
        free(title);
    } else if (c->stage == IN_TABLE) {
        if (is(name, "table") && --c->depth == 0) {
            c->stage = DONE;
            xmlStopParser(c->ctxt);
        } else if (c->depth == 1 && c->in_cell && (is(name, "td") || is(name, "th"))) {
            c->in_cell = 0;
            add_cell(c, text_take(c), c->cell_line);
        }
    }
}

static void on_text(void *ctx, const xmlChar *ch, int len)
{
    collector *c = ctx;
    if ((c->stage == SEEK_TITLE && c->in_title) || (c->stage == IN_TABLE && c->in_cell))
        text_add(c, (const char *)ch, (size_t)len);
}

static void collector_free(collector *c)
{
    for (size_t i = 0; i < c->n_rows; i++) {
        for (size_t j = 0; j < c->rows[i].n; j++)
            free(c->rows[i].cells[j].text);
        free(c->rows[i].cells);
    }
    free(c->rows);
    free(c->buf.data);
}

/* libxml2 must be initialised once before threads may parse concurrently. */
static pthread_once_t xml_once = PTHREAD_ONCE_INIT;
static void xml_init(void)
{
    xmlInitParser();
}

static int collect(const char *path, collector *c)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return fewshot_error_set_at(FEWSHOT_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
    fclose(f);
    pthread_once(&xml_once, xml_init);
    htmlParserCtxtPtr ctxt = htmlCreateFileParserCtxt(path, NULL);
    if (!ctxt)
        return fewshot_error_set_at(FEWSHOT_EIO, path, 0, 0, "cannot read the file as HTML");
    /* our handlers only: no document tree is built */
    memset(ctxt->sax, 0, sizeof *ctxt->sax);
    ctxt->sax->startElement = on_start;
    ctxt->sax->endElement = on_end;
    ctxt->sax->characters = on_text;
    ctxt->sax->cdataBlock = on_text;
    ctxt->userData = c;
    c->ctxt = ctxt;
    htmlCtxtUseOptions(ctxt, HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                 HTML_PARSE_NONET);
    ctxt->linenumbers = 1;
    htmlParseDocument(ctxt);
    if (ctxt->myDoc)
        xmlFreeDoc(ctxt->myDoc);
    ctxt->myDoc = NULL;
    htmlFreeParserCtxt(ctxt);
    c->ctxt = NULL;
    if (c->oom)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory reading %s", path);
    if (c->too_big)
        return fewshot_error_set_at(FEWSHOT_EPARSE, path, 0, 0,
                                    "the '" TABLE_TITLE "' table holds more than %zu MiB of "
                                    "text: not the table of one building", MAX_TABLE_TEXT >> 20);
    if (c->stage < IN_TABLE)
        return fewshot_error_set_at(FEWSHOT_EPARSE, path, 0, 0,
                                    "no '" TABLE_TITLE "' table (expected EnergyPlus tabular "
                                    "output, *.table.htm, with the Initialization Summary "
                                    "report)");
    return 0;
}

/* ------------------------------------------------------------------ reading the zones */

/* Does a header cell's text name this column ("Floor Area {m2}" names "Floor Area")? */
static int header_matches(const char *header, const char *title)
{
    size_t n = strlen(title);
    if (strncasecmp(header, title, n) != 0)
        return 0;
    return header[n] == '\0' || header[n] == ' ' || header[n] == '{';
}

static int find_columns(const char *path, const row *header, int col[N_COLUMNS])
{
    for (int c = 0; c < N_COLUMNS; c++) {
        col[c] = -1;
        for (size_t i = 0; i < header->n && col[c] < 0; i++)
            if (header_matches(header->cells[i].text, column_titles[c]))
                col[c] = (int)i;
        if (col[c] < 0)
            return fewshot_error_set_at(FEWSHOT_EPARSE, path, header->line, 0,
                                        "the '" TABLE_TITLE "' table has no '%s' column",
                                        column_titles[c]);
    }
    return 0;
}

static int read_number(const char *path, const cell *cl, const char *zone, int c, double *out)
{
    char *end = NULL;
    errno = 0;
    double v = cl->text[0] ? strtod(cl->text, &end) : NAN;
    if (!cl->text[0] || !end || *end || errno || !isfinite(v))
        return fewshot_error_set_at(FEWSHOT_EPARSE, path, cl->line, 0,
                                    "zone '%s': '%s' is '%s', expected a number", zone,
                                    column_titles[c], cl->text);
    *out = v;
    return 0;
}

static int read_zone(const char *path, const row *r, size_t n_header, const int col[N_COLUMNS],
                     fewshot_building_zone *z)
{
    if (r->n < n_header)
        return fewshot_error_set_at(FEWSHOT_EPARSE, path, r->line, 0,
                                    "a '" TABLE_TITLE "' row has %zu cells, the header %zu",
                                    r->n, n_header);
    const cell *name = &r->cells[col[COL_NAME]];
    if (!name->text[0])
        return fewshot_error_set_at(FEWSHOT_EPARSE, path, name->line, 0,
                                    "a zone without a name in the '" TABLE_TITLE "' table");
    if (!(z->name = strdup(name->text)))
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    double *targets[N_COLUMNS] = {
        [COL_CZ] = &z->centroid_z, [COL_XMIN] = &z->xmin, [COL_XMAX] = &z->xmax,
        [COL_YMIN] = &z->ymin, [COL_YMAX] = &z->ymax, [COL_ZMIN] = &z->zmin,
        [COL_ZMAX] = &z->zmax, [COL_FLOOR] = &z->floor_area, [COL_WALL] = &z->wall_area,
        [COL_WINDOW] = &z->window_area,
    };
    for (int c = COL_CZ; c < N_COLUMNS; c++) {
        int rc = read_number(path, &r->cells[col[c]], z->name, c, targets[c]);
        if (rc)
            return rc;
    }
    if (!(z->xmax > z->xmin && z->ymax > z->ymin && z->zmax > z->zmin))
        return fewshot_error_set_at(FEWSHOT_EPARSE, path, r->line, 0,
                                    "zone '%s' has an empty extent (minimum >= maximum)",
                                    z->name);
    return 0;
}

int fewshot__energyplus_zones(const char *path, fewshot_building *b)
{
    collector c = {.stage = SEEK_TITLE};
    int rc = collect(path, &c);
    if (rc == 0 && c.n_rows < 2)
        rc = fewshot_error_set_at(FEWSHOT_EPARSE, path, c.table_line, 0,
                                  "the '" TABLE_TITLE "' table has no zone rows");
    int col[N_COLUMNS];
    if (rc == 0)
        rc = find_columns(path, &c.rows[0], col);
    if (rc == 0 && !(b->zones = calloc(c.n_rows - 1, sizeof *b->zones)))
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    for (size_t i = 1; rc == 0 && i < c.n_rows; i++) {
        b->n_zones = i;
        rc = read_zone(path, &c.rows[i], c.rows[0].n, col, &b->zones[i - 1]);
    }
    collector_free(&c);
    return rc;
}
