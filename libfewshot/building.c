/*
 * Building descriptions: the JSON format (fewshot-building(5)), the U-value table of the 16 BEAR
 * building types, and the search for shipped prototypes. The EnergyPlus importer's HTML side
 * lives in energyplus.c.
 */
#include "config.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <jansson.h>

#include "building_internal.h"
#include "fewshot/error.h"

#include "paths.h"     /* FEWSHOT_DATADIR, generated from configure's directories */

#define FORMAT_NAME "fewshot-building"
#define FORMAT_VERSION 1

/* U-values, W/(m2 K), in the order of enum fewshot_building_u_index (BEAR's table). */
typedef struct u_row {
    const char *type;
    double u[FEWSHOT_U_COUNT];
} u_row;

static const u_row u_table[] = {
    {"OfficeSmall", {6.299, 3.839, 0.514, 0.228, 4.488, 0.319, 2.615}},
    {"OfficeMedium", {6.299, 3.839, 0.514, 0.228, 4.488, 0.319, 2.615}},
    {"OfficeLarge", {6.299, 3.839, 0.984, 0.228, 4.488, 3.839, 2.615}},
    {"RestaurantFastFood", {6.299, 0.158, 0.547, 4.706, 0.158, 0.350, 2.557}},
    {"RestaurantSitDown", {6.299, 0.158, 0.514, 4.706, 0.158, 0.194, 2.557}},
    {"RetailStandalone", {6.299, 0.047, 0.984, 0.228, 0.228, 0.047, 3.695}},
    {"RetailStripmall", {6.299, 0.1125, 0.514, 0.228, 0.228, 0.1125, 3.695}},
    {"Warehouse", {0.774, 0.1926, 1.044, 0.5892, 10.06, 0.1926, 2.557}},
    {"Hospital", {6.299, 3.839, 0.984, 0.228, 3.839, 3.285, 2.615}},
    {"HotelLarge", {6.299, 0.228, 0.984, 0.228, 0.228, 2.705, 2.615}},
    {"HotelSmall", {6.299, 3.839, 0.514, 0.228, 3.839, 0.1573, 2.615}},
    {"ApartmentHighRise", {6.299, 3.285, 0.384, 0.228, 3.839, 0.287, 2.786}},
    {"ApartmentMidRise", {6.299, 3.285, 0.384, 0.228, 3.839, 0.287, 2.786}},
    {"OutPatientHealthCare", {6.299, 3.839, 0.514, 0.228, 3.839, 0.00565, 2.615}},
    {"SchoolPrimary", {6.299, 0.144, 0.514, 0.228, 0.228, 0.144, 2.672}},
    {"SchoolSecondary", {6.299, 3.839, 0.514, 0.228, 3.839, 0.144, 2.672}},
};
#define N_TYPES (sizeof u_table / sizeof u_table[0])

/* JSON names of the U-values, in index order. */
static const char *const u_names[FEWSHOT_U_COUNT] = {
    "interior_wall", "floor", "exterior_wall", "roof", "ceiling", "ground_floor", "window",
};

/* The same names as u_table, in its order (test_building checks each has U-values). */
static const char *const type_names[] = {
    "OfficeSmall", "OfficeMedium", "OfficeLarge", "RestaurantFastFood", "RestaurantSitDown",
    "RetailStandalone", "RetailStripmall", "Warehouse", "Hospital", "HotelLarge", "HotelSmall",
    "ApartmentHighRise", "ApartmentMidRise", "OutPatientHealthCare", "SchoolPrimary",
    "SchoolSecondary", NULL,
};

const char *const *fewshot_building_types(void)
{
    return type_names;
}

static const u_row *find_type(const char *type)
{
    for (size_t i = 0; type && i < N_TYPES; i++)
        if (strcasecmp(u_table[i].type, type) == 0)
            return &u_table[i];
    return NULL;
}

static void type_list(char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < N_TYPES && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? ", " : "", u_table[i].type);
}

int fewshot_building_u_values(const char *type, double u[7])
{
    const u_row *row = find_type(type);
    if (!row) {
        char list[512];
        type_list(list, sizeof list);
        return fewshot_error_set(FEWSHOT_ENOTFOUND, "unknown building type '%s' (known: %s)",
                                 type ? type : "(null)", list);
    }
    memcpy(u, row->u, sizeof row->u);
    return 0;
}

const char *fewshot__building_type_in_name(const char *path)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    const char *best = NULL;
    size_t best_len = 0;
    for (size_t i = 0; i < N_TYPES; i++) {
        size_t len = strlen(u_table[i].type);
        if (len <= best_len)
            continue;
        for (const char *p = base; *p; p++)
            if (strncasecmp(p, u_table[i].type, len) == 0) {
                best = u_table[i].type;
                best_len = len;
                break;
            }
    }
    return best;
}

void fewshot_building_free(fewshot_building *b)
{
    if (!b)
        return;
    for (size_t i = 0; i < b->n_zones; i++)
        free(b->zones[i].name);
    free(b->zones);
    free(b->name);
    free(b->type);
    free(b->source);
    free(b);
}

void fewshot__building_layer(fewshot_building *b)
{
    /* insertion sort: stable, and zone counts are small */
    for (size_t i = 1; i < b->n_zones; i++) {
        fewshot_building_zone z = b->zones[i];
        size_t j = i;
        while (j > 0 && b->zones[j - 1].centroid_z > z.centroid_z) {
            b->zones[j] = b->zones[j - 1];
            j--;
        }
        b->zones[j] = z;
    }
    int layer = 0;
    for (size_t i = 0; i < b->n_zones; i++) {
        if (i > 0 && b->zones[i].centroid_z != b->zones[i - 1].centroid_z)
            layer++;
        b->zones[i].layer = layer;
    }
    b->n_layers = b->n_zones ? layer + 1 : 0;
}

/* ------------------------------------------------------------------ JSON reading */

typedef struct reader {
    const char *file;
    char path[128];
} reader;

static int bad(reader *r, const char *fmt, ...) FEWSHOT_PRINTF(2, 3);
static int bad(reader *r, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return fewshot_error_set_path(FEWSHOT_EPARSE, r->file, r->path, "%s", msg);
}

static int check_keys(reader *r, const json_t *obj, const char *const *known, const char *base)
{
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)obj, key, v) {
        int ok = 0;
        for (size_t i = 0; known[i]; i++)
            ok |= strcmp(key, known[i]) == 0;
        if (!ok) {
            char list[512] = "";
            size_t n = 0;
            for (size_t i = 0; known[i] && n < sizeof list; i++)
                n += (size_t)snprintf(list + n, sizeof list - n, "%s%s", i ? ", " : "", known[i]);
            snprintf(r->path, sizeof r->path, "%s.%s", base, key);
            return bad(r, "unknown key '%s' (known: %s)", key, list);
        }
    }
    return 0;
}

static int get_number(reader *r, const json_t *obj, const char *base, const char *key,
                      int required, double *out)
{
    json_t *v = json_object_get(obj, key);
    snprintf(r->path, sizeof r->path, "%s.%s", base, key);
    if (!v) {
        if (required)
            return bad(r, "missing '%s' (a number)", key);
        return 1;
    }
    if (!json_is_number(v))
        return bad(r, "'%s' must be a number", key);
    *out = json_number_value(v);
    if (!isfinite(*out))
        return bad(r, "'%s' must be finite", key);
    return 0;
}

static int get_string(reader *r, const json_t *obj, const char *base, const char *key,
                      int required, char **out)
{
    json_t *v = json_object_get(obj, key);
    snprintf(r->path, sizeof r->path, "%s.%s", base, key);
    if (!v) {
        if (required)
            return bad(r, "missing '%s' (a string)", key);
        return 1;
    }
    if (!json_is_string(v) || json_string_length(v) == 0)
        return bad(r, "'%s' must be a non-empty string", key);
    *out = strdup(json_string_value(v));
    return *out ? 0 : fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
}

static int read_u_values(reader *r, const json_t *root, fewshot_building *b)
{
    static const char *const known[] = {"interior_wall", "floor", "exterior_wall", "roof",
                                        "ceiling", "ground_floor", "window", NULL};
    const u_row *row = find_type(b->type);
    json_t *uv = json_object_get(root, "u_values");
    if (!uv) {
        if (!row) {
            char list[512];
            type_list(list, sizeof list);
            int named = json_object_get(root, "type") != NULL;
            snprintf(r->path, sizeof r->path, named ? "$.type" : "$");
            return bad(r, "%s '%s' has no built-in U-values and 'u_values' is missing (give "
                          "all seven, or a 'type' among: %s)", named ? "type" : "name (the "
                          "default type)", b->type, list);
        }
        memcpy(b->u, row->u, sizeof b->u);
        return 0;
    }
    snprintf(r->path, sizeof r->path, "$.u_values");
    if (!json_is_object(uv))
        return bad(r, "'u_values' must be an object of the 7 U-values in W/(m2 K)");
    int rc = check_keys(r, uv, known, "$.u_values");
    if (rc)
        return rc;
    for (int i = 0; i < FEWSHOT_U_COUNT; i++) {
        rc = get_number(r, uv, "$.u_values", u_names[i], row == NULL, &b->u[i]);
        if (rc < 0)
            return rc;
        if (rc == 1)
            b->u[i] = row->u[i];   /* missing: the type's value */
        else if (!(b->u[i] > 0))
            return bad(r, "U-value '%s' must be positive, not %g", u_names[i], b->u[i]);
    }
    return 0;
}

static int read_zone(reader *r, const json_t *z, size_t index, fewshot_building_zone *out)
{
    static const char *const known[] = {"name", "xmin", "xmax", "ymin", "ymax", "zmin", "zmax",
                                        "centroid_z", "floor_area", "wall_area", "window_area",
                                        "layer", NULL};
    char base[64];
    snprintf(base, sizeof base, "$.zones[%zu]", index);
    snprintf(r->path, sizeof r->path, "%s", base);
    if (!json_is_object(z))
        return bad(r, "a zone must be an object");
    int rc = check_keys(r, z, known, base);
    if (rc || (rc = get_string(r, z, base, "name", 1, &out->name)) != 0)
        return rc;
    struct { const char *key; double *v; } req[] = {
        {"xmin", &out->xmin}, {"xmax", &out->xmax}, {"ymin", &out->ymin}, {"ymax", &out->ymax},
        {"zmin", &out->zmin}, {"zmax", &out->zmax}, {"floor_area", &out->floor_area},
    };
    for (size_t i = 0; i < sizeof req / sizeof req[0]; i++)
        if ((rc = get_number(r, z, base, req[i].key, 1, req[i].v)) != 0)
            return rc;
    const char *axes[3][2] = {{"xmin", "xmax"}, {"ymin", "ymax"}, {"zmin", "zmax"}};
    double lo[3] = {out->xmin, out->ymin, out->zmin}, hi[3] = {out->xmax, out->ymax, out->zmax};
    for (int a = 0; a < 3; a++)
        if (!(hi[a] > lo[a])) {
            snprintf(r->path, sizeof r->path, "%s.%s", base, axes[a][1]);
            return bad(r, "%s (%g) must be greater than %s (%g)", axes[a][1], hi[a], axes[a][0],
                       lo[a]);
        }
    out->wall_area = out->window_area = 0;
    out->centroid_z = 0.5 * (out->zmin + out->zmax);
    struct { const char *key; double *v; } opt[] = {
        {"wall_area", &out->wall_area}, {"window_area", &out->window_area},
        {"centroid_z", &out->centroid_z},
    };
    for (size_t i = 0; i < sizeof opt / sizeof opt[0]; i++)
        if ((rc = get_number(r, z, base, opt[i].key, 0, opt[i].v)) < 0)
            return rc;
    struct { const char *key; double v; } nonneg[] = {
        {"floor_area", out->floor_area}, {"wall_area", out->wall_area},
        {"window_area", out->window_area},
    };
    for (size_t i = 0; i < sizeof nonneg / sizeof nonneg[0]; i++)
        if (nonneg[i].v < 0) {
            snprintf(r->path, sizeof r->path, "%s.%s", base, nonneg[i].key);
            return bad(r, "'%s' must not be negative", nonneg[i].key);
        }
    out->layer = -1;
    json_t *layer = json_object_get(z, "layer");
    if (layer) {
        snprintf(r->path, sizeof r->path, "%s.layer", base);
        if (!json_is_integer(layer) || json_integer_value(layer) < 0)
            return bad(r, "'layer' must be a non-negative integer");
        out->layer = (int)json_integer_value(layer);
    }
    return 0;
}

static int read_building(reader *r, const json_t *root, fewshot_building *b)
{
    static const char *const known[] = {"format", "name", "type", "source", "u_values",
                                        "zones", "comment", NULL};
    snprintf(r->path, sizeof r->path, "$");
    if (!json_is_object(root))
        return bad(r, "a building file must be a JSON object");
    int rc = check_keys(r, root, known, "$");
    if (rc)
        return rc;
    json_t *format = json_object_get(root, "format");
    if (format) {
        char want[64];
        snprintf(want, sizeof want, "%s/%d", FORMAT_NAME, FORMAT_VERSION);
        snprintf(r->path, sizeof r->path, "$.format");
        if (!json_is_string(format) || strcmp(json_string_value(format), want) != 0)
            return bad(r, "'format' must be \"%s\"", want);
    }
    if ((rc = get_string(r, root, "$", "name", 1, &b->name)) != 0 ||
        (rc = get_string(r, root, "$", "type", 0, &b->type)) < 0 ||
        (rc = get_string(r, root, "$", "source", 0, &b->source)) < 0)
        return rc;
    if (!b->type && !(b->type = strdup(b->name)))
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    if ((rc = read_u_values(r, root, b)) != 0)
        return rc;
    json_t *zones = json_object_get(root, "zones");
    snprintf(r->path, sizeof r->path, "$.zones");
    if (!json_is_array(zones) || json_array_size(zones) == 0)
        return bad(r, "'zones' must be a non-empty array of zones");
    b->zones = calloc(json_array_size(zones), sizeof *b->zones);
    if (!b->zones)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    size_t i;
    json_t *z;
    json_array_foreach(zones, i, z) {
        b->n_zones = i + 1;
        if ((rc = read_zone(r, z, i, &b->zones[i])) != 0)
            return rc;
        for (size_t j = 0; j < i; j++)
            if (strcmp(b->zones[j].name, b->zones[i].name) == 0) {
                snprintf(r->path, sizeof r->path, "$.zones[%zu].name", i);
                return bad(r, "zone name '%s' is also zone %zu's", b->zones[i].name, j);
            }
    }
    /* the layers given must be the ones the centroid heights imply */
    int *given = malloc(b->n_zones * sizeof *given);
    char **names = malloc(b->n_zones * sizeof *names);
    if (!given || !names) {
        free(given);
        free(names);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    for (i = 0; i < b->n_zones; i++) {
        given[i] = b->zones[i].layer;
        names[i] = b->zones[i].name;
    }
    fewshot__building_layer(b);
    rc = 0;
    for (i = 0; i < b->n_zones && rc == 0; i++) {
        size_t orig = 0;
        while (names[orig] != b->zones[i].name)
            orig++;
        if (given[orig] >= 0 && given[orig] != b->zones[i].layer) {
            snprintf(r->path, sizeof r->path, "$.zones[%zu].layer", orig);
            rc = bad(r, "layer %d disagrees with centroid_z %g: zones with equal centroid_z form "
                        "one layer, counted from the lowest, so this zone is in layer %d",
                     given[orig], b->zones[i].centroid_z, b->zones[i].layer);
        }
    }
    free(given);
    free(names);
    return rc;
}

/* A building file describes zones and materials: a few megabytes even for thousands of
 * zones. A larger one is refused before its JSON tree fills memory. */
#define MAX_BUILDING_FILE ((off_t)64 << 20)

/* A copy of b, or NULL out of memory. */
static fewshot_building *building_copy(const fewshot_building *b)
{
    fewshot_building *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    *c = *b;
    c->name = c->type = c->source = NULL;
    c->zones = calloc(b->n_zones + 1, sizeof *c->zones);
    int ok = c->zones != NULL;
    for (size_t i = 0; ok && i < b->n_zones; i++) {
        c->zones[i] = b->zones[i];
        c->zones[i].name = NULL;
        ok = !b->zones[i].name || (c->zones[i].name = strdup(b->zones[i].name));
    }
    ok = ok && (!b->name || (c->name = strdup(b->name))) &&
         (!b->type || (c->type = strdup(b->type))) &&
         (!b->source || (c->source = strdup(b->source)));
    if (!ok) {
        if (!c->zones)
            c->n_zones = 0;
        fewshot_building_free(c);
        return NULL;
    }
    return c;
}

/* Buildings read from files, by path and the file's identity and times: a sweep makes an
 * environment per scenario (and per demonstration scenario shown), each reading the same
 * few files, and parsing one took most of making the environment. A changed file is read
 * again; past LOADED_MAX files each load reads its file. */
#define LOADED_MAX 16
static pthread_mutex_t loaded_lock = PTHREAD_MUTEX_INITIALIZER;
static struct loaded {
    char *path;
    dev_t dev;
    ino_t ino;
    off_t size;
    struct timespec mtime, ctime;
    fewshot_building *b;
} loaded[LOADED_MAX];
static size_t n_loaded;

static int same_file(const struct loaded *l, const char *path, const struct stat *sb)
{
    return l->dev == sb->st_dev && l->ino == sb->st_ino && l->size == sb->st_size &&
           l->mtime.tv_sec == sb->st_mtim.tv_sec && l->mtime.tv_nsec == sb->st_mtim.tv_nsec &&
           l->ctime.tv_sec == sb->st_ctim.tv_sec && l->ctime.tv_nsec == sb->st_ctim.tv_nsec &&
           strcmp(l->path, path) == 0;
}

/* A copy of the building kept for this file (0), or 1 when none is. */
static int recall(fewshot_building **out, const char *path, const struct stat *sb)
{
    int rc = 1;
    pthread_mutex_lock(&loaded_lock);
    for (size_t i = 0; i < n_loaded && rc == 1; i++)
        if (same_file(&loaded[i], path, sb)) {
            *out = building_copy(loaded[i].b);
            rc = *out ? 0 : fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        }
    pthread_mutex_unlock(&loaded_lock);
    return rc;
}

static void keep(const fewshot_building *b, const char *path, const struct stat *sb)
{
    pthread_mutex_lock(&loaded_lock);
    size_t i = 0;
    while (i < n_loaded && !same_file(&loaded[i], path, sb))
        i++;
    if (i == n_loaded && n_loaded < LOADED_MAX) {
        struct loaded l = {strdup(path), sb->st_dev, sb->st_ino, sb->st_size, sb->st_mtim,
                           sb->st_ctim, building_copy(b)};
        if (l.path && l.b)
            loaded[n_loaded++] = l;
        else {
            free(l.path);
            fewshot_building_free(l.b);
        }
    }
    pthread_mutex_unlock(&loaded_lock);
}

static int load_json(fewshot_building **out, const char *path)
{
    struct stat sb;
    int known = stat(path, &sb) == 0 && S_ISREG(sb.st_mode);
    if (known) {
        int rc = recall(out, path, &sb);
        if (rc <= 0)
            return rc;
    }
    if (known && sb.st_size > MAX_BUILDING_FILE)
        return fewshot_error_set_at(FEWSHOT_EPARSE, path, 0, 0,
                                    "the file is %lld MiB; a building file is at most %lld MiB",
                                    (long long)(sb.st_size >> 20),
                                    (long long)(MAX_BUILDING_FILE >> 20));
    json_error_t jerr;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        FILE *f = fopen(path, "r");
        if (!f)
            return fewshot_error_set_at(FEWSHOT_EIO, path, 0, 0, "cannot open: %s",
                                        strerror(errno));
        fclose(f);
        return fewshot_error_set_at(FEWSHOT_EPARSE, path, jerr.line, jerr.column, "%s",
                                    jerr.text);
    }
    fewshot_building *b = calloc(1, sizeof *b);
    if (!b) {
        json_decref(root);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    reader r = {.file = path};
    int rc = read_building(&r, root, b);
    json_decref(root);
    if (rc == 0 && !b->source && !(b->source = strdup(path)))
        rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    if (rc) {
        fewshot_building_free(b);
        return rc;
    }
    if (known)
        keep(b, path, &sb);
    *out = b;
    return 0;
}

/* ------------------------------------------------------------------ JSON writing */

typedef struct sbuf {
    char *data;
    size_t len, cap;
    int failed;
} sbuf;

static void put(sbuf *s, const char *fmt, ...) FEWSHOT_PRINTF(2, 3);
static void put(sbuf *s, const char *fmt, ...)
{
    va_list ap;
    for (;;) {
        va_start(ap, fmt);
        int n = vsnprintf(s->data ? s->data + s->len : NULL, s->data ? s->cap - s->len : 0, fmt,
                          ap);
        va_end(ap);
        if (n < 0 || s->failed) {
            s->failed = 1;
            return;
        }
        if (s->data && s->len + (size_t)n < s->cap) {
            s->len += (size_t)n;
            return;
        }
        size_t cap = s->cap ? s->cap : 1024;
        while (cap <= s->len + (size_t)n)
            cap *= 2;
        char *grown = realloc(s->data, cap);
        if (!grown) {
            s->failed = 1;
            return;
        }
        s->data = grown;
        s->cap = cap;
    }
}

/* Shortest decimal that reads back to the same double, so files stay readable ("1.53"). */
static void put_number(sbuf *s, double v)
{
    char buf[40];
    for (int precision = 1; precision <= 17; precision++) {
        snprintf(buf, sizeof buf, "%.*g", precision, v);
        if (strtod(buf, NULL) == v)
            break;
    }
    put(s, "%s", buf);
}

static void put_string(sbuf *s, const char *text)
{
    json_t *str = json_string(text ? text : "");
    char *enc = str ? json_dumps(str, JSON_ENCODE_ANY) : NULL;
    if (!enc)
        s->failed = 1;
    else
        put(s, "%s", enc);
    free(enc);
    json_decref(str);
}

int fewshot_building_dumps(const fewshot_building *b, char **out)
{
    if (!b || !out)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_building_dumps: NULL argument");
    sbuf s = {0};
    put(&s, "{\n  \"format\": \"%s/%d\",\n  \"name\": ", FORMAT_NAME, FORMAT_VERSION);
    put_string(&s, b->name);
    put(&s, ",\n  \"type\": ");
    put_string(&s, b->type ? b->type : b->name);
    if (b->source) {
        const char *base = strrchr(b->source, '/');
        put(&s, ",\n  \"source\": ");
        put_string(&s, base ? base + 1 : b->source);
    }
    put(&s, ",\n  \"u_values\": {");
    for (int i = 0; i < FEWSHOT_U_COUNT; i++) {
        put(&s, "%s\"%s\": ", i ? ", " : "", u_names[i]);
        put_number(&s, b->u[i]);
    }
    put(&s, "},\n  \"zones\": [\n");
    for (size_t i = 0; i < b->n_zones; i++) {
        const fewshot_building_zone *z = &b->zones[i];
        put(&s, "    {\"name\": ");
        put_string(&s, z->name);
        put(&s, ", \"layer\": %d, \"centroid_z\": ", z->layer);
        put_number(&s, z->centroid_z);
        const char *keys[] = {"xmin", "xmax", "ymin", "ymax", "zmin", "zmax",
                              "floor_area", "wall_area", "window_area"};
        double vals[] = {z->xmin, z->xmax, z->ymin, z->ymax, z->zmin, z->zmax,
                         z->floor_area, z->wall_area, z->window_area};
        for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
            put(&s, ",%s\"%s\": ", k == 0 || k == 6 ? "\n     " : " ", keys[k]);
            put_number(&s, vals[k]);
        }
        put(&s, "}%s\n", i + 1 < b->n_zones ? "," : "");
    }
    put(&s, "  ]\n}\n");
    if (s.failed) {
        free(s.data);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory writing a building");
    }
    *out = s.data;
    return 0;
}

int fewshot_building_save(const fewshot_building *b, const char *path)
{
    char *text;
    int rc = fewshot_building_dumps(b, &text);
    if (rc)
        return rc;
    int to_stdout = strcmp(path, "-") == 0;
    FILE *f = to_stdout ? stdout : fopen(path, "w");
    if (!f) {
        rc = fewshot_error_set_at(FEWSHOT_EIO, path, 0, 0, "cannot create: %s", strerror(errno));
        free(text);
        return rc;
    }
    size_t n = strlen(text);
    int failed = fwrite(text, 1, n, f) != n;
    failed |= to_stdout ? fflush(f) != 0 : fclose(f) != 0;
    free(text);
    if (failed)
        return fewshot_error_set_at(FEWSHOT_EIO, path, 0, 0, "write failed: %s", strerror(errno));
    return 0;
}

/* ------------------------------------------------------------------ finding prototypes */

const char *fewshot_building_dir(void)
{
    return FEWSHOT_DATADIR "/buildings";
}

static int is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Look for NAME.json (case-insensitively) in dir; append every *.json name to list. */
static char *search_dir(const char *dir, const char *name, char *list, size_t size)
{
    DIR *d = opendir(dir);
    if (!d)
        return NULL;
    char *found = NULL;
    struct dirent *e;
    size_t nlen = strlen(name);
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        if (!found && len - 5 == nlen && strncasecmp(e->d_name, name, nlen) == 0) {
            size_t plen = strlen(dir) + len + 2;
            found = malloc(plen);
            if (found)
                snprintf(found, plen, "%s/%s", dir, e->d_name);
        }
        size_t used = strlen(list);
        if (used + len + 2 < size && !strstr(list, e->d_name))
            snprintf(list + used, size - used, "%s%.*s", used ? ", " : "", (int)(len - 5),
                     e->d_name);
    }
    closedir(d);
    return found;
}

int fewshot_building_find(const char *name, char **path)
{
    if (!name || !*name || strchr(name, '/'))
        return fewshot_error_set(FEWSHOT_EINVAL, "building name '%s' is not a prototype name",
                                 name ? name : "");
    char list[1024] = "", dirs[2048] = "";
    const char *env = getenv("FEWSHOT_BUILDING_PATH");
    char *found = NULL;
    if (env && *env) {
        char *copy = strdup(env), *save = NULL;
        for (char *dir = strtok_r(copy, ":", &save); dir && !found;
             dir = strtok_r(NULL, ":", &save)) {
            found = search_dir(dir, name, list, sizeof list);
            size_t n = strlen(dirs);
            snprintf(dirs + n, sizeof dirs - n, "%s%s", n ? ", " : "", dir);
        }
        free(copy);
    }
    const char *fixed[] = {
        fewshot_building_dir(),
#ifdef FEWSHOT_SOURCE_BUILDINGDIR
        FEWSHOT_SOURCE_BUILDINGDIR,
#endif
    };
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0] && !found; i++) {
        found = search_dir(fixed[i], name, list, sizeof list);
        size_t n = strlen(dirs);
        snprintf(dirs + n, sizeof dirs - n, "%s%s", n ? ", " : "", fixed[i]);
    }
    if (!found)
        return fewshot_error_set(FEWSHOT_ENOTFOUND,
                                 "unknown building '%s' (shipped buildings: %s; searched "
                                 "$FEWSHOT_BUILDING_PATH and %s); give a building JSON file or an "
                                 "EnergyPlus *.table.htm path instead",
                                 name, list[0] ? list : "none found", dirs);
    *path = found;
    return 0;
}

static int ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcasecmp(s + n - m, suffix) == 0;
}

int fewshot_building_load(fewshot_building **out, const char *path_or_name)
{
    if (!out || !path_or_name)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_building_load: NULL argument");
    *out = NULL;
    const char *p = path_or_name;
    int html = ends_with(p, ".htm") || ends_with(p, ".html");
    if (is_file(p))
        return html ? fewshot_building_import_energyplus(out, p, NULL) : load_json(out, p);
    if (strchr(p, '/') || html || ends_with(p, ".json"))
        return fewshot_error_set_at(FEWSHOT_ENOTFOUND, p, 0, 0, "no such building file");
    char *found;
    int rc = fewshot_building_find(p, &found);
    if (rc)
        return rc;
    rc = load_json(out, found);
    free(found);
    return rc;
}

int fewshot_building_import_energyplus(fewshot_building **out, const char *htm_path,
                                       const char *type)
{
    if (!out || !htm_path)
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_building_import_energyplus: NULL "
                                                 "argument");
    *out = NULL;
    const char *guessed = fewshot__building_type_in_name(htm_path);
    const u_row *row = find_type(type ? type : guessed);
    if (!row) {
        char list[512];
        type_list(list, sizeof list);
        if (type)
            return fewshot_error_set(FEWSHOT_ENOTFOUND, "unknown building type '%s' (known: %s)",
                                     type, list);
        return fewshot_error_set_at(FEWSHOT_EINVAL, htm_path, 0, 0,
                                    "cannot tell the building type from the file name; give "
                                    "one of: %s", list);
    }
    fewshot_building *b = calloc(1, sizeof *b);
    if (!b)
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    int rc = fewshot__energyplus_zones(htm_path, b);
    if (rc == 0) {
        b->type = strdup(row->type);
        b->name = strdup(guessed ? guessed : row->type);
        b->source = strdup(htm_path);
        memcpy(b->u, row->u, sizeof b->u);
        if (!b->type || !b->name || !b->source)
            rc = fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    if (rc) {
        fewshot_building_free(b);
        return rc;
    }
    fewshot__building_layer(b);
    *out = b;
    return 0;
}
