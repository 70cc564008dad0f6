/*
 * trading: price series from CSV files or a regime-switching GBM generator (see market.h).
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <fewshot/error.h>
#include <fewshot/rng.h>

#include "market.h"

void market_free(market *mk)
{
    if (!mk)
        return;
    for (size_t i = 0; mk->names && i < mk->assets; i++)
        free(mk->names[i]);
    for (size_t i = 0; mk->dates && i < mk->days; i++)
        free(mk->dates[i]);
    free(mk->names);
    free(mk->dates);
    free(mk->close);
    memset(mk, 0, sizeof *mk);
}

double market_mean(const market *mk, size_t day, size_t asset, size_t window)
{
    size_t first = day + 1 >= window ? day + 1 - window : 0;
    double sum = 0;
    for (size_t d = first; d <= day; d++)
        sum += market_price(mk, d, asset);
    return sum / (double)(day + 1 - first);
}

int market_generate(market *mk, const gbm_options *o, uint64_t seed)
{
    fewshot_rng rng;
    const double dt = 1.0 / 252;
    double level[64];
    if (o->assets < 1 || o->assets > 64)
        return fewshot_error_set(FEWSHOT_EINVAL, "trading: assets must be in 1..64");
    market_free(mk);
    mk->assets = o->assets;
    mk->days = o->days;
    mk->close = malloc(o->days * o->assets * sizeof *mk->close);
    mk->names = calloc(o->assets, sizeof *mk->names);
    if (!mk->close || !mk->names)
        goto oom;
    for (size_t i = 0; i < o->assets; i++) {
        char name[32];
        snprintf(name, sizeof name, "Stock %zu", i + 1);
        if (!(mk->names[i] = strdup(name)))
            goto oom;
    }
    fewshot_rng_seed(&rng, seed);
    int bull = fewshot_rng_uniform(&rng) < 0.5;
    for (size_t i = 0; i < o->assets; i++)
        level[i] = o->start_price * exp(0.3 * fewshot_rng_normal(&rng));
    double rho = fmin(fmax(o->correlation, 0), 1);
    for (size_t d = 0; d < o->days; d++) {
        if (d > 0) {
            if (fewshot_rng_uniform(&rng) < o->switch_prob)
                bull = !bull;
            double mu = bull ? o->drift_bull : o->drift_bear, s = o->volatility;
            double common = fewshot_rng_normal(&rng);
            for (size_t i = 0; i < o->assets; i++) {
                double z = sqrt(rho) * common + sqrt(1 - rho) * fewshot_rng_normal(&rng);
                level[i] *= exp((mu - 0.5 * s * s) * dt + s * sqrt(dt) * z);
            }
        }
        for (size_t i = 0; i < o->assets; i++)
            mk->close[d * o->assets + i] = fmax(0.01, round(level[i] * 100) / 100);
    }
    return 0;
oom:
    market_free(mk);
    return fewshot_error_set(FEWSHOT_ENOMEM, "trading: out of memory");
}

/* ---- CSV ---- */

enum { COL_DATE, COL_ASSET, COL_OPEN, COL_HIGH, COL_LOW, COL_CLOSE, COL_VOLUME, NCOLS };
static const char *const column_names[NCOLS] = {"date", "asset", "open", "high", "low",
                                                "close", "volume"};

typedef struct csv_row {
    char *date, *asset;
    double close;
    long line;
} csv_row;

/* Split line in place at commas; trims spaces. Returns the number of fields. */
static size_t split(char *line, char **fields, size_t *cols, size_t max)
{
    size_t n = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (n < max) {
            fields[n] = p;
            cols[n] = (size_t)(p - line) + 1;
        }
        n++;
        char *comma = strchr(p, ',');
        char *end = comma ? comma : p + strlen(p);
        while (end > p && (end[-1] == ' ' || end[-1] == '\t'))
            end--;
        char *next = comma ? comma + 1 : NULL;
        *end = '\0';
        if (!next)
            break;
        p = next;
    }
    return n;
}

static int parse_header(const char *file, long lineno, char **fields, size_t nfields,
                        int *index)
{
    for (int c = 0; c < NCOLS; c++)
        index[c] = -1;
    for (size_t i = 0; i < nfields && i < 32; i++)
        for (int c = 0; c < NCOLS; c++)
            if (strcasecmp(fields[i], column_names[c]) == 0)
                index[c] = (int)i;
    for (int c = 0; c < NCOLS; c++)
        if (index[c] < 0)
            return fewshot_error_set_at(FEWSHOT_EPARSE, file, (int)lineno, 1,
                                        "the header lacks the column '%s' (expected date, "
                                        "asset, open, high, low, close, volume)",
                                        column_names[c]);
    return 0;
}

static int csv_rows(const char *file, csv_row **out, size_t *count)
{
    FILE *f = fopen(file, "r");
    if (!f)
        return fewshot_error_set(FEWSHOT_EIO, "trading: cannot open price file %s: %s", file,
                                 strerror(errno));
    char line[4096], *fields[32];
    size_t cols[32];
    int index[NCOLS], rc = 0, have_header = 0;
    long lineno = 0;
    size_t n = 0, cap = 0;
    csv_row *rows = NULL;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        line[strcspn(line, "\r\n")] = '\0';
        if (line[strspn(line, " \t")] == '\0' || line[strspn(line, " \t")] == '#')
            continue;
        size_t nf = split(line, fields, cols, 32);
        if (!have_header) {
            if ((rc = parse_header(file, lineno, fields, nf, index)) != 0)
                break;
            have_header = (int)nf;
            continue;
        }
        if ((int)nf != have_header) {
            rc = fewshot_error_set_at(FEWSHOT_EPARSE, file, (int)lineno, 0,
                                      "expected %d fields, found %zu", have_header, nf);
            break;
        }
        for (int c = COL_OPEN; c < NCOLS && rc == 0; c++) {
            char *end;
            const char *text = fields[index[c]];
            errno = 0;
            double v = strtod(text, &end);
            if (end == text || *end || errno || !isfinite(v) || v < 0 ||
                (c == COL_CLOSE && v <= 0))
                rc = fewshot_error_set_at(FEWSHOT_EPARSE, file, (int)lineno,
                                          (int)cols[index[c]],
                                          "%s must be a %s number, found '%s'",
                                          column_names[c],
                                          c == COL_CLOSE ? "positive" : "non-negative", text);
        }
        if (rc)
            break;
        for (int c = COL_DATE; c <= COL_ASSET && rc == 0; c++)
            if (!*fields[index[c]])
                rc = fewshot_error_set_at(FEWSHOT_EPARSE, file, (int)lineno, (int)cols[index[c]],
                                          "empty %s", column_names[c]);
        if (rc)
            break;
        if (n == cap) {
            cap = cap ? 2 * cap : 256;
            csv_row *grown = realloc(rows, cap * sizeof *rows);
            if (!grown) {
                rc = fewshot_error_set(FEWSHOT_ENOMEM, "trading: out of memory");
                break;
            }
            rows = grown;
        }
        rows[n].date = strdup(fields[index[COL_DATE]]);
        rows[n].asset = strdup(fields[index[COL_ASSET]]);
        rows[n].close = strtod(fields[index[COL_CLOSE]], NULL);
        rows[n].line = lineno;
        n++;
        if (!rows[n - 1].date || !rows[n - 1].asset) {
            rc = fewshot_error_set(FEWSHOT_ENOMEM, "trading: out of memory");
            break;
        }
    }
    if (rc == 0 && !have_header)
        rc = fewshot_error_set_at(FEWSHOT_EPARSE, file, (int)lineno, 0,
                                  "empty file: expected a header date,asset,open,high,low,"
                                  "close,volume");
    if (rc == 0 && n == 0)
        rc = fewshot_error_set_at(FEWSHOT_EPARSE, file, (int)lineno, 0, "no price rows");
    fclose(f);
    if (rc) {
        for (size_t i = 0; i < n; i++) {
            free(rows[i].date);
            free(rows[i].asset);
        }
        free(rows);
        return rc;
    }
    *out = rows;
    *count = n;
    return 0;
}

int market_load_csv(market *mk, const char *file)
{
    csv_row *rows;
    size_t n;
    int rc = csv_rows(file, &rows, &n);
    if (rc)
        return rc;
    market_free(mk);
    /* the assets are those of the first date, in file order */
    size_t d0 = 0;
    while (d0 < n && strcmp(rows[d0].date, rows[0].date) == 0)
        d0++;
    mk->assets = d0;
    mk->days = (n + d0 - 1) / d0;
    mk->names = calloc(d0, sizeof *mk->names);
    mk->dates = calloc(mk->days + 1, sizeof *mk->dates);
    mk->close = calloc(mk->days * d0 + 1, sizeof *mk->close);
    if (!mk->names || !mk->dates || !mk->close) {
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "trading: out of memory");
        goto done;
    }
    for (size_t i = 0; i < d0; i++) {
        for (size_t j = 0; j < i; j++)
            if (strcmp(rows[i].asset, rows[j].asset) == 0) {
                rc = fewshot_error_set_at(FEWSHOT_EPARSE, file, (int)rows[i].line, 0,
                                          "asset '%s' appears twice on date %s", rows[i].asset,
                                          rows[i].date);
                goto done;
            }
        mk->names[i] = strdup(rows[i].asset);
    }
    size_t day = 0;
    for (size_t r = 0; r < n; r += d0, day++) {
        for (size_t k = 0; k < d0; k++) {
            size_t i = r + k;
            if (i >= n || strcmp(rows[i].date, rows[r].date) != 0) {
                long line = i < n ? rows[i].line : rows[n - 1].line;
                rc = fewshot_error_set_at(FEWSHOT_EPARSE, file, (int)line, 0,
                                          "date %s lists %zu assets, expected %zu (%s...)",
                                          rows[r].date, k, d0, mk->names[0]);
                goto done;
            }
            if (strcmp(rows[i].asset, mk->names[k]) != 0) {
                rc = fewshot_error_set_at(FEWSHOT_EPARSE, file, (int)rows[i].line, 0,
                                          "expected asset '%s' on date %s (assets must come "
                                          "in the order of the first date), found '%s'",
                                          mk->names[k], rows[i].date, rows[i].asset);
                goto done;
            }
            mk->close[day * d0 + k] = rows[i].close;
        }
        if (r > 0 && strcmp(rows[r].date, rows[r - d0].date) == 0) {
            rc = fewshot_error_set_at(FEWSHOT_EPARSE, file, (int)rows[r].line, 0,
                                      "date %s lists more assets than the first date (%zu)",
                                      rows[r].date, d0);
            goto done;
        }
        if (r > 0 && strcmp(rows[r].date, rows[r - d0].date) < 0) {
            rc = fewshot_error_set_at(FEWSHOT_EPARSE, file, (int)rows[r].line, 0,
                                      "date %s does not come after %s (dates must increase)",
                                      rows[r].date, rows[r - d0].date);
            goto done;
        }
        mk->dates[day] = strdup(rows[r].date);
    }
    if (mk->days < 2)
        rc = fewshot_error_set_at(FEWSHOT_EPARSE, file, (int)rows[n - 1].line, 0,
                                  "need prices for at least 2 dates, found %zu", mk->days);
done:
    for (size_t i = 0; i < n; i++) {
        free(rows[i].date);
        free(rows[i].asset);
    }
    free(rows);
    if (rc)
        market_free(mk);
    return rc;
}
