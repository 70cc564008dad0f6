/*
 * The environment registry and the dlopen loader.
 *
 * The registry maps names to plugin tables. Tables come from fewshot_env_register() or from
 * shared modules found on the search path; each module is opened once and kept open for the
 * life of the process (tables and their strings live inside it).
 */
#include "config.h"

#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fewshot/env.h"
#include "fewshot/error.h"
#include "internal.h"

#include "paths.h"     /* FEWSHOT_PLUGINDIR, generated from configure's directories */

typedef struct registered {
    const fewshot_env_plugin *plugin;
    char *file;        /* module path, or NULL for in-process registrations */
    void *handle;      /* dlopen handle, or NULL */
} registered;

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static registered *entries;
static size_t n_entries, cap_entries;
static char **extra_dirs;
static size_t n_extra_dirs;

static registered *lookup_locked(const char *name)
{
    for (size_t i = 0; i < n_entries; i++)
        if (strcmp(entries[i].plugin->name, name) == 0)
            return &entries[i];
    return NULL;
}

static registered *lookup_by_table_locked(const fewshot_env_plugin *plugin)
{
    for (size_t i = 0; i < n_entries; i++)
        if (entries[i].plugin == plugin)
            return &entries[i];
    return NULL;
}

static int add_locked(const fewshot_env_plugin *plugin, const char *file, void *handle)
{
    if (n_entries == cap_entries) {
        size_t cap = cap_entries ? 2 * cap_entries : 8;
        registered *grown = realloc(entries, cap * sizeof *grown);
        if (!grown)
            return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory registering a plugin");
        entries = grown;
        cap_entries = cap;
    }
    entries[n_entries].plugin = plugin;
    entries[n_entries].file = file ? strdup(file) : NULL;
    entries[n_entries].handle = handle;
    n_entries++;
    return 0;
}

/* A list of names in the table (term_names, feature_names): NULL-terminated, bounded, each
 * non-empty and distinct, since results and embeddings are keyed by them. */
static int check_names(const fewshot_env_plugin *p, const char *origin, const char *list,
                       const char *const *names)
{
    size_t max = strcmp(list, "term_names") == 0 ? FEWSHOT_STEP_TERMS_MAX : 4096;
    for (size_t i = 0; names && names[i]; i++) {
        if (i == max)
            return fewshot_error_set(FEWSHOT_EPLUGIN, "%s: plugin '%s' has more than %zu names "
                                     "in %s (or does not end the list with NULL)", origin,
                                     p->name, max, list);
        if (!names[i][0])
            return fewshot_error_set(FEWSHOT_EPLUGIN, "%s: plugin '%s': %s[%zu] is empty",
                                     origin, p->name, list, i);
        for (size_t j = 0; j < i; j++)
            if (strcmp(names[i], names[j]) == 0)
                return fewshot_error_set(FEWSHOT_EPLUGIN, "%s: plugin '%s' declares '%s' twice "
                                         "in %s", origin, p->name, names[i], list);
    }
    return 0;
}

/* Checks every table gets, whether registered in-process or loaded from a file. */
static int validate_table(const fewshot_env_plugin *p, const char *origin)
{
    if (!p)
        return fewshot_error_set(FEWSHOT_EPLUGIN, "%s: the entry point returned NULL", origin);
    if (p->abi != FEWSHOT_PLUGIN_ABI)
        return fewshot_error_set(FEWSHOT_EPLUGIN,
                                 "%s: plugin ABI version %u, but this libfewshot expects %u; "
                                 "rebuild the plugin against the installed <fewshot/plugin.h>",
                                 origin, p->abi, (unsigned)FEWSHOT_PLUGIN_ABI);
    if (!p->name || !p->name[0])
        return fewshot_error_set(FEWSHOT_EPLUGIN, "%s: the plugin table has no name", origin);
    const char *missing = !p->create ? "create" : !p->destroy ? "destroy"
                        : !p->spaces ? "spaces" : !p->reset ? "reset"
                        : !p->step ? "step" : NULL;
    if (missing)
        return fewshot_error_set(FEWSHOT_EPLUGIN, "%s: plugin '%s' has no %s() function",
                                 origin, p->name, missing);
    if (p->policies && p->policies[0] && !p->policy)
        return fewshot_error_set(FEWSHOT_EPLUGIN, "%s: plugin '%s' lists policies but has no "
                                 "policy() function", origin, p->name);
    const char *lists[2] = {"term_names", "feature_names"};
    const char *const *names[2] = {p->term_names, p->feature_names};
    for (int l = 0; l < 2; l++) {
        int rc = check_names(p, origin, lists[l], names[l]);
        if (rc)
            return rc;
    }
    for (size_t i = 0; i < ARRAY_SIZE(p->reserved); i++)
        if (p->reserved[i])
            return fewshot_error_set(FEWSHOT_EPLUGIN, "%s: plugin '%s' sets reserved slot %zu; "
                                     "it was built for a newer libfewshot", origin, p->name, i);
    if (p->params_doc) {
        json_error_t jerr;
        json_t *doc = json_loads(p->params_doc, 0, &jerr);
        if (!doc || !json_is_object(doc)) {
            json_decref(doc);
            return fewshot_error_set(FEWSHOT_EPLUGIN, "%s: plugin '%s' has an invalid params_doc "
                                     "(line %d, column %d: %s)", origin, p->name, jerr.line,
                                     jerr.column, doc ? "expected an object" : jerr.text);
        }
        json_decref(doc);
    }
    return 0;
}

int fewshot_env_register(const fewshot_env_plugin *plugin)
{
    int rc = validate_table(plugin, "fewshot_env_register");
    if (rc)
        return rc;
    pthread_mutex_lock(&lock);
    if (lookup_locked(plugin->name)) {
        pthread_mutex_unlock(&lock);
        return fewshot_error_set(FEWSHOT_EEXISTS, "an environment named '%s' is already "
                                 "registered", plugin->name);
    }
    rc = add_locked(plugin, NULL, NULL);
    pthread_mutex_unlock(&lock);
    return rc;
}

int fewshot_env_path_add(const char *dir)
{
    if (!dir || !dir[0])
        return fewshot_error_set(FEWSHOT_EINVAL, "fewshot_env_path_add: empty directory");
    pthread_mutex_lock(&lock);
    char **grown = realloc(extra_dirs, (n_extra_dirs + 1) * sizeof *grown);
    char *copy = strdup(dir);
    if (!grown || !copy) {
        if (grown)
            extra_dirs = grown;
        free(copy);
        pthread_mutex_unlock(&lock);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    extra_dirs = grown;
    extra_dirs[n_extra_dirs++] = copy;
    pthread_mutex_unlock(&lock);
    return 0;
}

const char *fewshot_env_plugin_dir(void)
{
    return FEWSHOT_PLUGINDIR;
}

/* Calls fn(dir, arg) for each search directory in order until fn returns nonzero. */
static int for_each_dir(int (*fn)(const char *dir, void *arg), void *arg)
{
    int rc;
    const char *env = getenv("FEWSHOT_PLUGIN_PATH");
    if (env && env[0]) {
        char *copy = strdup(env), *save = NULL;
        if (!copy)
            return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
        for (char *d = strtok_r(copy, ":", &save); d; d = strtok_r(NULL, ":", &save))
            if ((rc = fn(d, arg)) != 0) {
                free(copy);
                return rc;
            }
        free(copy);
    }
    for (size_t i = 0; i < n_extra_dirs; i++)
        if ((rc = fn(extra_dirs[i], arg)) != 0)
            return rc;
    return fn(FEWSHOT_PLUGINDIR, arg);
}

static int file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

static int is_elf(const char *path)
{
    unsigned char magic[4] = {0};
    FILE *f = fopen(path, "rb");
    size_t got = f ? fread(magic, 1, sizeof magic, f) : 0;
    if (f)
        fclose(f);
    return got == 4 && magic[0] == 0x7f && magic[1] == 'E' && magic[2] == 'L' && magic[3] == 'F';
}

/* Open a module file and register its table. Must hold the lock. */
static int load_file_locked(const char *path, const char *expect_name, registered **out)
{
    if (!file_exists(path))
        return fewshot_error_set(FEWSHOT_ENOTFOUND, "%s: no such plugin file", path);
    dlerror();
    void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!handle) {
        const char *why = dlerror();
        if (!is_elf(path))      /* ldd would not help: this is no shared object at all */
            return fewshot_error_set(FEWSHOT_EPLUGIN, "%s: cannot load plugin: not a shared "
                                     "library (no ELF header); build plugins with `cc -shared "
                                     "-fPIC` or libtool -module (see fewshot-plugin(7))", path);
        if (why && strstr(why, "cannot open shared object file"))
            return fewshot_error_set(FEWSHOT_EPLUGIN, "%s: cannot load plugin: %s (try `ldd %s` "
                                     "to see which library is missing)", path, why, path);
        return fewshot_error_set(FEWSHOT_EPLUGIN, "%s: cannot load plugin: %s", path,
                                 why ? why : "unknown dlopen error");
    }
    fewshot_env_plugin_entry_fn entry;
    *(void **)&entry = dlsym(handle, FEWSHOT_ENV_PLUGIN_ENTRY);
    if (!entry) {
        dlclose(handle);
        return fewshot_error_set(FEWSHOT_EPLUGIN, "%s: not a libfewshot plugin: it does not "
                                 "export the symbol %s", path, FEWSHOT_ENV_PLUGIN_ENTRY);
    }
    const fewshot_env_plugin *plugin = entry();
    int rc = validate_table(plugin, path);
    if (rc) {
        dlclose(handle);
        return rc;
    }
    if (expect_name && strcmp(plugin->name, expect_name) != 0) {
        rc = fewshot_error_set(FEWSHOT_EPLUGIN, "%s: the file is named for '%s' but the plugin "
                               "calls itself '%s'", path, expect_name, plugin->name);
        dlclose(handle);
        return rc;
    }
    registered *known = lookup_locked(plugin->name);
    if (known) {
        /* The same name earlier on the search path wins; keep this module closed. */
        if (!known->file || strcmp(known->file, path) != 0)
            dlclose(handle);
        *out = known;
        return 0;
    }
    if ((rc = add_locked(plugin, path, handle)) != 0) {
        dlclose(handle);
        return rc;
    }
    *out = &entries[n_entries - 1];
    return 0;
}

typedef struct find_ctx {
    const char *name;
    registered *found;
    int error;           /* first load error other than "missing" */
    char tried[2048];
} find_ctx;

static int find_in_dir(const char *dir, void *arg)
{
    find_ctx *ctx = arg;
    char path[4096];
    snprintf(path, sizeof path, "%s/%s.so", dir, ctx->name);
    size_t used = strlen(ctx->tried);
    snprintf(ctx->tried + used, sizeof ctx->tried - used, "%s%s", used ? ", " : "", dir);
    if (!file_exists(path))
        return 0;
    int rc = load_file_locked(path, ctx->name, &ctx->found);
    if (rc)
        ctx->error = rc;
    return 1;      /* the first file with this name decides, loaded or not */
}

int fewshot_env_plugin_find(const fewshot_env_plugin **out, const char *name)
{
    registered *r = NULL;
    int rc = 0;
    *out = NULL;
    if (!name || !name[0])
        return fewshot_error_set(FEWSHOT_EINVAL, "no environment name given");
    pthread_mutex_lock(&lock);
    if (strchr(name, '/')) {
        rc = load_file_locked(name, NULL, &r);
    } else if (!(r = lookup_locked(name))) {
        find_ctx ctx = {.name = name};
        rc = for_each_dir(find_in_dir, &ctx);
        if (rc < 0) {
            /* an allocation failure while walking the path */
        } else if (ctx.error) {
            rc = ctx.error;
        } else if (!ctx.found) {
            rc = fewshot_error_set(FEWSHOT_ENOTFOUND, "unknown environment '%s': no %s.so in %s "
                                   "(set FEWSHOT_PLUGIN_PATH, or run `fewshot env list`)",
                                   name, name, ctx.tried);
        } else {
            rc = 0;
            r = ctx.found;
        }
    }
    if (!rc && r)
        *out = r->plugin;
    pthread_mutex_unlock(&lock);
    return rc;
}

const char *fewshot_env_plugin_file(const fewshot_env_plugin *plugin)
{
    const char *file = "(unknown)";
    pthread_mutex_lock(&lock);
    registered *r = lookup_by_table_locked(plugin);
    if (r)
        file = r->file ? r->file : "(built-in)";
    pthread_mutex_unlock(&lock);
    return file;
}

static int name_from_file(const char *file, char *name, size_t size)
{
    size_t n = strlen(file);
    if (n <= 3 || strcmp(file + n - 3, ".so") != 0 || n - 3 >= size)
        return 0;
    memcpy(name, file, n - 3);
    name[n - 3] = '\0';
    return 1;
}

static int scan_dir(const char *dir, void *arg)
{
    json_t *list = arg;
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char name[256], path[4096];
        if (!name_from_file(de->d_name, name, sizeof name))
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        registered *r = lookup_locked(name);
        if (r && r->file && strcmp(r->file, path) != 0)
            continue;               /* shadowed by an earlier directory */
        if (!r && load_file_locked(path, name, &r) != 0) {
            json_array_append_new(list, json_pack("{s:s, s:s, s:s}", "name", name, "file", path,
                                                  "error", fewshot_error_last()->message));
            continue;
        }
        (void)r;
    }
    closedir(d);
    return 0;
}

static int compare_by_name(const void *a, const void *b)
{
    const char *x = json_string_value(json_object_get(*(json_t *const *)a, "name"));
    const char *y = json_string_value(json_object_get(*(json_t *const *)b, "name"));
    return strcmp(x ? x : "", y ? y : "");
}

int fewshot_env_plugin_list(json_t **out)
{
    json_t *failed = json_array();
    json_t *list = json_array();
    if (!failed || !list) {
        json_decref(failed);
        json_decref(list);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    pthread_mutex_lock(&lock);
    for_each_dir(scan_dir, failed);
    for (size_t i = 0; i < n_entries; i++) {
        const fewshot_env_plugin *p = entries[i].plugin;
        json_array_append_new(list, json_pack("{s:s, s:s, s:s, s:s}", "name", p->name,
                                              "summary", p->summary ? p->summary : "",
                                              "version", p->version ? p->version : "",
                                              "file", entries[i].file ? entries[i].file
                                                                       : "(built-in)"));
    }
    pthread_mutex_unlock(&lock);
    json_array_extend(list, failed);
    json_decref(failed);

    size_t n = json_array_size(list);
    json_t **items = malloc((n ? n : 1) * sizeof *items);
    if (!items) {
        json_decref(list);
        return fewshot_error_set(FEWSHOT_ENOMEM, "out of memory");
    }
    for (size_t i = 0; i < n; i++)
        items[i] = json_incref(json_array_get(list, i));
    qsort(items, n, sizeof *items, compare_by_name);
    json_array_clear(list);
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, items[i]);
    free(items);
    *out = list;
    return 0;
}

int fewshot_env_plugin_params_doc(const fewshot_env_plugin *plugin, json_t **out)
{
    json_error_t jerr;
    *out = plugin->params_doc ? json_loads(plugin->params_doc, 0, &jerr)
                              : json_pack("{s:{}}", "params");
    if (!*out)
        return fewshot_error_set(FEWSHOT_EPLUGIN, "plugin '%s': invalid params_doc", plugin->name);
    return 0;
}
