/*
 * The EnergyPlus side of the building importer: parse a tabular HTML output file (*.table.htm)
 * with libxml2's HTML parser, find the "Zone Information" table of the Initialization Summary
 * and read the cells by their column headers, so column order and formatting do not matter.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <libxml/HTMLparser.h>
#include <libxml/tree.h>

#include "building_internal.h"
#include "fewshot/error.h"

#define TABLE_TITLE "Zone Information"

/* The columns we read, by header text without its unit ("Floor Area" for "Floor Area {m2}"). */
enum column {
    COL_NAME, COL_CZ, COL_XMIN, COL_XMAX, COL_YMIN, COL_YMAX, COL_ZMIN, COL_ZMAX,
    COL_FLOOR, COL_WALL, COL_WINDOW, N_COLUMNS
};
static const char *const column_titles[N_COLUMNS] = {
    "Zone Name", "Centroid Z-Coordinate", "Minimum X", "Maximum X", "Minimum Y", "Maximum Y",
    "Minimum Z", "Maximum Z", "Floor Area", "Exterior Net Wall Area", "Exterior Window Area",
};

static int is_element(const xmlNode *n, const char *name)
{
    return n && n->type == XML_ELEMENT_NODE && strcasecmp((const char *)n->name, name) == 0;
}

/* The node's text with surrounding white space removed (malloc'd). */
static char *node_text(const xmlNode *n)
{
    xmlChar *raw = xmlNodeGetContent(n);
    const char *s = raw ? (const char *)raw : "";
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
        s++;
    size_t len = strlen(s);
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' ||
                   s[len - 1] == '\r'))
        len--;
    char *out = strndup(s, len);
    xmlFree(raw);
    return out;
}

/* Next node in document order after n, not descending into n. */
static xmlNode *next_in_order(xmlNode *n)
{
    while (n && !n->next)
        n = n->parent;
    return n ? n->next : NULL;
}

/* Next node in document order, descending. */
static xmlNode *walk(xmlNode *n)
{
    return n->children ? n->children : next_in_order(n);
}

/* The first <table> after the bold title "Zone Information". */
static xmlNode *find_table(xmlNode *root)
{
    for (xmlNode *n = root; n; n = walk(n)) {
        if (!is_element(n, "b"))
            continue;
        char *text = node_text(n);
        int match = text && strcmp(text, TABLE_TITLE) == 0;
        free(text);
        if (!match)
            continue;
        for (xmlNode *m = next_in_order(n); m; m = walk(m))
            if (is_element(m, "table"))
                return m;
        return NULL;
    }
    return NULL;
}

/* Rows of a table (its own <tr>s, also inside <thead>/<tbody>, not nested tables'). */
static size_t table_rows(xmlNode *table, xmlNode **rows, size_t cap)
{
    size_t n = 0;
    for (xmlNode *c = table->children; c; c = c->next) {
        if (is_element(c, "tr")) {
            if (n < cap)
                rows[n] = c;
            n++;
        } else if (is_element(c, "thead") || is_element(c, "tbody") || is_element(c, "tfoot")) {
            n += table_rows(c, n < cap ? rows + n : NULL, n < cap ? cap - n : 0);
        }
    }
    return n;
}

static size_t row_cells(xmlNode *row, xmlNode **cells, size_t cap)
{
    size_t n = 0;
    for (xmlNode *c = row->children; c; c = c->next)
        if (is_element(c, "td") || is_element(c, "th")) {
            if (n < cap)
                cells[n] = c;
            n++;
        }
    return n;
}

/* Does a header cell's text name this column ("Floor Area {m2}" names "Floor Area")? */
static int header_matches(const char *header, const char *title)
{
    size_t n = strlen(title);
    if (strncasecmp(header, title, n) != 0)
        return 0;
    return header[n] == '\0' || header[n] == ' ' || header[n] == '{';
}

typedef struct import {
    const char *file;
    xmlNode **rows;
    size_t n_rows, n_header;
    int col[N_COLUMNS];
} import;

static int read_header(import *im)
{
    size_t n = row_cells(im->rows[0], NULL, 0), cap = n;
    xmlNode **cells = malloc((cap ? cap : 1) * sizeof *cells);
    char **texts = calloc(cap ? cap : 1, sizeof *texts);
    int rc = 0;
    if (!cells || !texts) {
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        goto done;
    }
    row_cells(im->rows[0], cells, cap);
    for (size_t i = 0; i < n; i++)
        texts[i] = node_text(cells[i]);
    im->n_header = n;
    for (int c = 0; c < N_COLUMNS && rc == 0; c++) {
        im->col[c] = -1;
        for (size_t i = 0; i < n; i++)
            if (texts[i] && header_matches(texts[i], column_titles[c])) {
                im->col[c] = (int)i;
                break;
            }
        if (im->col[c] < 0)
            rc = fewshot_error_set_at(FEWSHOT_EPARSE, im->file, (int)xmlGetLineNo(im->rows[0]), 0,
                                      "the '" TABLE_TITLE "' table has no '%s' column",
                                      column_titles[c]);
    }
done:
    for (size_t i = 0; texts && i < n; i++)
        free(texts[i]);
    free(texts);
    free(cells);
    return rc;
}

static int read_number(import *im, xmlNode *cell, const char *zone, int c, double *out)
{
    char *text = node_text(cell);
    char *end = NULL;
    errno = 0;
    double v = text && *text ? strtod(text, &end) : NAN;
    int ok = text && *text && end && *end == '\0' && errno == 0 && isfinite(v);
    int rc = 0;
    if (!ok)
        rc = fewshot_error_set_at(FEWSHOT_EPARSE, im->file, (int)xmlGetLineNo(cell), 0,
                                  "zone '%s': '%s' is '%s', expected a number", zone,
                                  column_titles[c], text ? text : "");
    *out = v;
    free(text);
    return rc;
}

static int read_zone(import *im, xmlNode *row, fewshot_building_zone *z)
{
    size_t n = row_cells(row, NULL, 0);
    xmlNode **cells = malloc((n ? n : 1) * sizeof *cells);
    if (!cells)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    row_cells(row, cells, n);
    int rc = 0;
    if (n < im->n_header) {
        rc = fewshot_error_set_at(FEWSHOT_EPARSE, im->file, (int)xmlGetLineNo(row), 0,
                                  "a '" TABLE_TITLE "' row has %zu cells, the header %zu", n,
                                  im->n_header);
        goto done;
    }
    z->name = node_text(cells[im->col[COL_NAME]]);
    if (!z->name || !z->name[0]) {
        rc = fewshot_error_set_at(FEWSHOT_EPARSE, im->file,
                                  (int)xmlGetLineNo(cells[im->col[COL_NAME]]), 0,
                                  "a zone without a name in the '" TABLE_TITLE "' table");
        goto done;
    }
    double *targets[N_COLUMNS] = {
        [COL_CZ] = &z->centroid_z, [COL_XMIN] = &z->xmin, [COL_XMAX] = &z->xmax,
        [COL_YMIN] = &z->ymin, [COL_YMAX] = &z->ymax, [COL_ZMIN] = &z->zmin,
        [COL_ZMAX] = &z->zmax, [COL_FLOOR] = &z->floor_area, [COL_WALL] = &z->wall_area,
        [COL_WINDOW] = &z->window_area,
    };
    for (int c = COL_CZ; c < N_COLUMNS && rc == 0; c++)
        rc = read_number(im, cells[im->col[c]], z->name, c, targets[c]);
done:
    free(cells);
    return rc;
}

int fewshot__energyplus_zones(const char *path, fewshot_building *b)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return fewshot_error_set_at(FEWSHOT_EIO, path, 0, 0, "cannot open: %s", strerror(errno));
    fclose(f);
    htmlDocPtr doc = htmlReadFile(path, NULL, HTML_PARSE_RECOVER | HTML_PARSE_NOERROR |
                                              HTML_PARSE_NOWARNING | HTML_PARSE_NONET);
    if (!doc)
        return fewshot_error_set_at(FEWSHOT_EPARSE, path, 0, 0,
                                    "not an HTML document (expected an EnergyPlus tabular "
                                    "output file, *.table.htm)");
    import im = {.file = path};
    int rc = 0;
    xmlNode *table = find_table(xmlDocGetRootElement(doc));
    if (!table) {
        rc = fewshot_error_set_at(FEWSHOT_EPARSE, path, 0, 0,
                                  "no '" TABLE_TITLE "' table (expected EnergyPlus tabular output "
                                  "with the Initialization Summary report)");
        goto done;
    }
    im.n_rows = table_rows(table, NULL, 0);
    if (im.n_rows < 2) {
        rc = fewshot_error_set_at(FEWSHOT_EPARSE, path, (int)xmlGetLineNo(table), 0,
                                  "the '" TABLE_TITLE "' table has no zone rows");
        goto done;
    }
    im.rows = malloc(im.n_rows * sizeof *im.rows);
    b->zones = calloc(im.n_rows - 1, sizeof *b->zones);
    if (!im.rows || !b->zones) {
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        goto done;
    }
    table_rows(table, im.rows, im.n_rows);
    if ((rc = read_header(&im)) != 0)
        goto done;
    for (size_t i = 1; i < im.n_rows && rc == 0; i++) {
        b->n_zones = i;
        fewshot_building_zone *z = &b->zones[i - 1];
        rc = read_zone(&im, im.rows[i], z);
        if (rc == 0 && !(z->xmax > z->xmin && z->ymax > z->ymin && z->zmax > z->zmin))
            rc = fewshot_error_set_at(FEWSHOT_EPARSE, path, (int)xmlGetLineNo(im.rows[i]), 0,
                                      "zone '%s' has an empty extent (minimum >= maximum)",
                                      z->name);
    }
done:
    free(im.rows);
    xmlFreeDoc(doc);
    return rc;
}
