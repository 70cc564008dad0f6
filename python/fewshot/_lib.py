"""Loading libfewshot in cffi's ABI mode (no compiler at import) and the error bridge.

The library is looked for, in order: $FEWSHOT_LIBRARY (a file), the build tree this package
sits in (python/fewshot/../../.libs, or $FEWSHOT_BUILDDIR/.libs for out-of-tree builds, whose
plugins are then added to the search path), the libdir recorded at `make install`
(_paths.py), and the dynamic linker's path."""
import json
import os

import cffi

ffi = cffi.FFI()
ffi.cdef("""
typedef struct json_t { int type; size_t refcount; } json_t;
typedef struct { int line; int column; int position; char source[80]; char text[160]; }
    json_error_t;

typedef struct fewshot_error {
    int code; const char *message; const char *file; int line; int column; long position;
    const char *path;
} fewshot_error;
const fewshot_error *fewshot_error_last(void);
void fewshot_error_clear(void);
int fewshot_error_set(int code, const char *fmt, ...);
const char *fewshot_version_str(void);

typedef struct fewshot_space {
    size_t dim; const double *low; const double *high; int integer; const char *const *names;
} fewshot_space;
typedef struct fewshot_step {
    double *obs; double reward; json_t *terms; int done; int truncated;
    double *term_values;
} fewshot_step;
typedef struct fewshot_env_plugin {
    unsigned int abi; const char *name; const char *summary; const char *version;
    const char *params_doc;
    int (*create)(void **self, const json_t *params);
    void (*destroy)(void *self);
    int (*spaces)(void *self, fewshot_space *obs, fewshot_space *act);
    int (*params)(void *self, json_t **out);
    int (*reset)(void *self, uint64_t seed, const json_t *options, double *obs);
    int (*step)(void *self, const double *action, fewshot_step *out);
    int (*context)(void *self, const double *obs, json_t **ctx);
    int (*features)(void *self, const double *obs, float *out, size_t cap, size_t *dim);
    const char *const *policies;
    int (*policy)(void *self, const char *name, const double *obs, double *action);
    const char *(*template_text)(void *self, const char *component);
    const char *const *term_names;
    const char *const *feature_names;
    void *reserved[6];
} fewshot_env_plugin;

typedef struct fewshot_env fewshot_env;
int fewshot_env_register(const fewshot_env_plugin *plugin);
int fewshot_env_path_add(const char *dir);
int fewshot_env_plugin_list(json_t **out);
int fewshot_env_new(fewshot_env **out, const char *name, const json_t *params);
void fewshot_env_free(fewshot_env *env);
const fewshot_space *fewshot_env_obs_space(const fewshot_env *env);
const fewshot_space *fewshot_env_act_space(const fewshot_env *env);
int fewshot_env_params(fewshot_env *env, json_t **out);
int fewshot_env_reset(fewshot_env *env, uint64_t seed, const json_t *options, double *obs);
int fewshot_env_step(fewshot_env *env, const double *action, fewshot_step *out);
int fewshot_env_context(fewshot_env *env, const double *obs, json_t **ctx);
int fewshot_env_features(fewshot_env *env, const double *obs, float *out, size_t cap,
                         size_t *dim);
const char *const *fewshot_env_policies(const fewshot_env *env);

typedef struct fewshot_vecenv fewshot_vecenv;
int fewshot_vecenv_new(fewshot_vecenv **out, const char *name, const json_t *params, size_t n);
void fewshot_vecenv_free(fewshot_vecenv *vec);
fewshot_env *fewshot_vecenv_env(fewshot_vecenv *vec, size_t i);
int fewshot_vecenv_reset(fewshot_vecenv *vec, uint64_t seed, const json_t *options,
                         double *obs);
int fewshot_vecenv_step(fewshot_vecenv *vec, const double *actions, double *obs,
                        double *rewards, int *done, int *truncated, double *final_obs);

typedef struct fewshot_policy fewshot_policy;
int fewshot_policy_new(fewshot_policy **out, fewshot_env *env, const char *spec, uint64_t seed);
void fewshot_policy_free(fewshot_policy *policy);
int fewshot_policy_act(fewshot_policy *policy, const double *obs, double *action);
void fewshot_policy_reset(fewshot_policy *policy, uint64_t seed);

typedef struct fewshot_llm fewshot_llm;
typedef struct fewshot_demos fewshot_demos;
typedef struct fewshot_agent fewshot_agent;
typedef struct fewshot_agent_options {
    unsigned int version; const char *policy; const json_t *arm; uint64_t seed;
    fewshot_llm *llm; fewshot_demos *demos;
} fewshot_agent_options;
int fewshot_agent_options_init(fewshot_agent_options *opts, unsigned int version);
int fewshot_agent_new(fewshot_agent **out, fewshot_env *env, const fewshot_agent_options *opts);
void fewshot_agent_free(fewshot_agent *agent);
int fewshot_agent_reset(fewshot_agent *agent, uint64_t seed);
int fewshot_agent_uses_llm(const fewshot_agent *agent);
int fewshot_agent_act(fewshot_agent *agent, const double *obs, double *action);
int fewshot_agent_observe(fewshot_agent *agent, const double *action, const fewshot_step *step);
json_t *fewshot_agent_decision(const fewshot_agent *agent);
int fewshot_agent_prompt(fewshot_agent *agent, const double *obs, json_t **out);

typedef struct fewshot_config fewshot_config;
int fewshot_config_load(fewshot_config **out, const char *path);
int fewshot_config_parse(fewshot_config **out, const char *text, const char *name);
void fewshot_config_free(fewshot_config *cfg);
int fewshot_config_set(fewshot_config *cfg, const char *assignment);
const json_t *fewshot_config_json(const fewshot_config *cfg);

typedef struct fewshot_sweep_options {
    unsigned int version; const char *run_dir; unsigned int shard_index;
    unsigned int shard_count; unsigned int jobs; int dry_run; void *progress; void *log;
} fewshot_sweep_options;
typedef struct fewshot_sweep_result {
    size_t planned, already_done, ran, failed, stopped, skipped, skipped_arms;
    long long prompt_tokens, completion_tokens; double cost; double seconds;
} fewshot_sweep_result;
int fewshot_sweep_options_init(fewshot_sweep_options *opts, unsigned int version);
int fewshot_sweep_run(const fewshot_config *cfg, const fewshot_sweep_options *opts,
                      fewshot_sweep_result *result);

typedef struct fewshot_report_options { unsigned int version; void *table; int plots; }
    fewshot_report_options;
int fewshot_report_options_init(fewshot_report_options *opts, unsigned int version);
int fewshot_report_run(const char *run_dir, const fewshot_report_options *opts);
""")

# jansson: the library's JSON type crosses the boundary as text. json_decref is an inline
# function in <jansson.h>, so it is done here the same way (these objects are never shared
# between threads while Python holds them).
ffi.cdef("""
json_t *json_loads(const char *input, size_t flags, json_error_t *error);
char *json_dumps(const json_t *json, size_t flags);
void json_delete(json_t *json);
void free(void *ptr);
void *fdopen(int fd, const char *mode);
int fclose(void *stream);
""")

JSON_ENCODE_ANY = 0x200
JSON_DECODE_ANY = 0x4
JSON_COMPACT = 0x20
JSON_REAL_PRECISION_17 = (17 & 0x1F) << 11

FEWSHOT_EUSER = -9
AGENT_OPTIONS_VERSION = 1
SWEEP_OPTIONS_VERSION = 1
REPORT_OPTIONS_VERSION = 1
PLUGIN_ABI = 1


class Error(Exception):
    """A libfewshot failure, with the C library's message and where it happened.

    Attributes: code (a negative FEWSHOT_E* number), message, file, line, column, path (the
    JSON path of the fault, such as "$.llm.temperature"), each empty or 0 when unknown."""

    def __init__(self, message, code=-1, file="", line=0, column=0, path=""):
        self.code, self.message = code, message
        self.file, self.line, self.column, self.path = file, line, column, path
        where = file
        if file and line:
            where += ":%d" % line + (":%d" % column if column else "")
        text = message
        if path and path not in message:
            text = "%s: %s" % (path, text)
        if where and file not in message:
            text = "%s: %s" % (where, text)
        super().__init__(text)


def _here():
    return os.path.dirname(os.path.abspath(__file__))


def _candidates():
    explicit = os.environ.get("FEWSHOT_LIBRARY")
    if explicit:
        yield explicit, None
    builds = []
    if os.environ.get("FEWSHOT_BUILDDIR"):
        builds.append(os.environ["FEWSHOT_BUILDDIR"])
    builds.append(os.path.join(_here(), "..", ".."))
    for top in builds:
        so = os.path.join(top, ".libs", "libfewshot.so")
        if os.path.exists(so):
            yield os.path.abspath(so), os.path.abspath(os.path.join(top, "plugins", ".libs"))
    try:
        from . import _paths
        yield os.path.join(_paths.LIBDIR, "libfewshot.so.0"), None
    except ImportError:
        pass
    yield "libfewshot.so.0", None


def _open():
    tried = []
    for path, plugins in _candidates():
        try:
            lib = ffi.dlopen(path)
        except OSError as e:
            tried.append("%s (%s)" % (path, e))
            continue
        if plugins and os.path.isdir(plugins):
            lib.fewshot_env_path_add(plugins.encode())
        return lib, path
    raise ImportError("fewshot: cannot load libfewshot; tried " + "; ".join(tried) +
                      ". Set FEWSHOT_LIBRARY to the libfewshot.so file.")


lib, library_path = _open()
try:
    jansson = ffi.dlopen("libjansson.so.4")
except OSError:     # the library's own dependency; this only fails on unusual systems
    jansson = ffi.dlopen("libjansson.so")
libc = ffi.dlopen(None)


def _str(p):
    return ffi.string(p).decode("utf-8", "replace") if p != ffi.NULL else ""


def last_error(rc=None):
    """The thread's last libfewshot error as an Error."""
    e = lib.fewshot_error_last()
    return Error(_str(e.message), e.code or (rc if rc is not None else -1), _str(e.file),
                 e.line, e.column, _str(e.path))


def check(rc):
    """Raise Error with the C message when a call failed."""
    if rc != 0:
        raise last_error(rc)
    return rc


def set_error(exc):
    """Record a Python exception as the C library's error (for callbacks); returns EUSER."""
    msg = "%s: %s" % (type(exc).__name__, exc)
    lib.fewshot_error_set(FEWSHOT_EUSER, b"%s", ffi.new("char[]", msg.encode()))
    return FEWSHOT_EUSER


# ---- JSON across the boundary

def to_json(value):
    """A new json_t reference for a Python value (None: NULL); free with decref()."""
    if value is None:
        return ffi.NULL
    err = ffi.new("json_error_t *")
    text = json.dumps(value, allow_nan=False).encode()
    j = jansson.json_loads(text, JSON_DECODE_ANY, err)
    if j == ffi.NULL:
        raise Error("cannot convert to JSON: %s" % _str(err.text))
    return j


def from_json(j):
    """The Python value of a json_t (borrowed); None for NULL."""
    if j == ffi.NULL:
        return None
    text = jansson.json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT | JSON_REAL_PRECISION_17)
    if text == ffi.NULL:
        raise Error("cannot read a JSON value from the library")
    try:
        return json.loads(ffi.string(text).decode())
    finally:
        libc.free(text)


_SIZE_MAX = (1 << (8 * ffi.sizeof("size_t"))) - 1     # jansson's "never freed" refcount


def decref(j):
    """json_decref (an inline function in <jansson.h>, so not in the library's symbols)."""
    if j != ffi.NULL and j.refcount != _SIZE_MAX:
        j.refcount -= 1
        if j.refcount == 0:
            jansson.json_delete(j)


def take_json(j):
    """from_json and release the reference (for new references the library returns)."""
    try:
        return from_json(j)
    finally:
        decref(j)


def version():
    return _str(lib.fewshot_version_str())
