/* Embedders: features standardization, text hashing, the remote embedder against a recorded
 * reply, and identities stamped into an index (a mismatched index is refused). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <fewshot.h>

static void test_features_standardized(void **state)
{
    fewshot_embedder *e;
    assert_int_equal(fewshot_embedder_new(&e, NULL), 0);
    assert_string_equal(fewshot_embedder_kind(e), "features");
    assert_int_equal(fewshot_embedder_dim(e), 0);
    float f[4][3] = {{1, 10, 5}, {2, 20, 5}, {3, 30, 5}, {4, 40, 5}};
    fewshot_embed_input in[4];
    for (int i = 0; i < 4; i++)
        in[i] = (fewshot_embed_input){f[i], 3, NULL};
    float out[12];
    /* not fitted yet */
    assert_int_equal(fewshot_embedder_embed(e, 4, in, out), FEWSHOT_EINVAL);
    assert_non_null(strstr(fewshot_error_last()->message, "not fitted"));
    assert_int_equal(fewshot_embedder_fit(e, 4, in), 0);
    assert_int_equal(fewshot_embedder_dim(e), 3);
    assert_int_equal(fewshot_embedder_embed(e, 4, in, out), 0);
    for (int j = 0; j < 3; j++) {
        double m = 0, v = 0;
        for (int i = 0; i < 4; i++)
            m += out[i * 3 + j] / 4.0;
        for (int i = 0; i < 4; i++)
            v += (out[i * 3 + j] - m) * (out[i * 3 + j] - m) / 3.0;
        assert_true(fabs(m) < 1e-6);
        assert_true(j == 2 ? v == 0 : fabs(v - 1) < 1e-5);   /* a constant stays 0 */
    }
    /* NaN and wrong dimensions are refused with the input named */
    float bad[3] = {1, NAN, 3};
    fewshot_embed_input b = {bad, 3, NULL};
    assert_int_equal(fewshot_embedder_embed(e, 1, &b, out), FEWSHOT_ERANGE);
    assert_non_null(strstr(fewshot_error_last()->message, "input 0, feature 1 is NaN"));
    b = (fewshot_embed_input){f[0], 2, NULL};
    assert_int_equal(fewshot_embedder_embed(e, 1, &b, out), FEWSHOT_EMISMATCH);
    assert_non_null(strstr(fewshot_error_last()->message, "has 2 features, expected 3"));
    b = (fewshot_embed_input){NULL, 0, "text"};
    assert_int_equal(fewshot_embedder_embed(e, 1, &b, out), FEWSHOT_EINVAL);
    fewshot_embedder_free(e);
}

static void test_text_hash(void **state)
{
    fewshot_embedder_options o = FEWSHOT_EMBEDDER_OPTIONS_INIT;
    o.kind = "text-hash";
    o.dim = 128;
    fewshot_embedder *e, *e2;
    assert_int_equal(fewshot_embedder_new(&e, &o), 0);
    assert_int_equal(fewshot_embedder_new(&e2, &o), 0);
    assert_int_equal(fewshot_embedder_dim(e), 128);
    fewshot_embed_input in[4] = {
        {NULL, 0, "Room 1: 23 degrees Celsius. Outside Temperature: 5 degrees Celsius."},
        {NULL, 0, "room 1:   23 degrees celsius.\nOutside temperature: 5 degrees Celsius."},
        {NULL, 0, "Room 1: 24 degrees Celsius. Outside Temperature: 6 degrees Celsius."},
        {NULL, 0, "The portfolio holds 300 shares of asset B and 1000 in cash."},
    };
    float v[4 * 128], w[4 * 128];
    assert_int_equal(fewshot_embedder_embed(e, 4, in, v), 0);
    assert_int_equal(fewshot_embedder_embed(e2, 4, in, w), 0);
    assert_memory_equal(v, w, sizeof v);         /* deterministic */
    double n0 = 0, same = 0, near = 0, far = 0;
    for (int j = 0; j < 128; j++) {
        n0 += v[j] * v[j];
        same += v[j] * v[128 + j];
        near += v[j] * v[256 + j];
        far += v[j] * v[384 + j];
    }
    assert_true(fabs(n0 - 1) < 1e-5);             /* normalized */
    assert_true(fabs(same - 1) < 1e-5);           /* case and spacing do not matter */
    assert_true(near > far + 0.3);
    /* another seed gives other vectors */
    fewshot_embedder_free(e2);
    o.seed = 1;
    assert_int_equal(fewshot_embedder_new(&e2, &o), 0);
    assert_int_equal(fewshot_embedder_embed(e2, 1, in, w), 0);
    assert_true(memcmp(v, w, 128 * sizeof *v) != 0);
    fewshot_embed_input none = {NULL, 0, NULL};
    assert_int_equal(fewshot_embedder_embed(e, 1, &none, v), FEWSHOT_EINVAL);
    fewshot_embedder_free(e2);
    o.ngram_min = 5;
    o.ngram_max = 3;
    assert_int_equal(fewshot_embedder_new(&e2, &o), FEWSHOT_EINVAL);
    assert_null(e2);
    fewshot_embedder_free(e);
    o.kind = "word2vec";
    assert_int_equal(fewshot_embedder_new(&e, &o), FEWSHOT_EINVAL);
    assert_non_null(strstr(fewshot_error_last()->message, "unknown embedder 'word2vec'"));
}

/* ---- remote: a transport that replays a file and records the request ---- */
typedef struct replay {
    const char *file;
    long status;
    char *url, *body, *key;
    int calls;
} replay;

static char *slurp(const char *file)
{
    FILE *f = fopen(file, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    size_t got = fread(s, 1, (size_t)n, f);
    s[got] = '\0';
    fclose(f);
    return s;
}

static int replay_post(void *data, const char *url, const char *api_key, const char *body,
                       long timeout_ms, long *status, char **reply)
{
    replay *r = data;
    r->calls++;
    free(r->url), free(r->body), free(r->key);
    r->url = strdup(url);
    r->body = strdup(body);
    r->key = api_key ? strdup(api_key) : NULL;
    *status = r->status;
    *reply = slurp(r->file);
    return *reply ? 0 : fewshot_error_set(FEWSHOT_EIO, "cannot read %s", r->file);
}

static char reply_path[512];

static void test_remote_recorded(void **state)
{
    const char *srcdir = getenv("top_srcdir");
    snprintf(reply_path, sizeof reply_path, "%s/tests/data/embeddings-reply.json",
             srcdir ? srcdir : "..");
    replay r = {reply_path, 200, NULL, NULL, NULL, 0};
    fewshot_embedder_options o = FEWSHOT_EMBEDDER_OPTIONS_INIT;
    o.kind = "remote";
    o.base_url = "http://127.0.0.1:9/v1/";
    o.model = "text-embedding-3-small";
    o.api_key_env = "FEWSHOT_TEST_EMBED_KEY";
    o.transport = replay_post;
    o.transport_data = &r;
    setenv("FEWSHOT_TEST_EMBED_KEY", "sk-test-secret", 1);
    fewshot_embedder *e;
    assert_int_equal(fewshot_embedder_new(&e, &o), 0);
    fewshot_embed_input in[3] = {{NULL, 0, "a"}, {NULL, 0, "b \"quoted\""}, {NULL, 0, "c"}};
    float v[12];
    assert_int_equal(fewshot_embedder_embed(e, 3, in, v), 0);
    assert_int_equal(r.calls, 1);
    assert_string_equal(r.url, "http://127.0.0.1:9/v1/embeddings");
    assert_string_equal(r.key, "sk-test-secret");
    json_t *req = json_loads(r.body, 0, NULL);
    assert_non_null(req);
    assert_string_equal(json_string_value(json_object_get(req, "model")), o.model);
    assert_string_equal(json_string_value(json_array_get(json_object_get(req, "input"), 1)),
                        "b \"quoted\"");
    json_decref(req);
    assert_int_equal(fewshot_embedder_dim(e), 4);
    /* ordered by "index", normalized: [1,0,0,0], [.6,.8,0,0], [0,0,.6,.8] */
    const float want[12] = {1, 0, 0, 0, 0.6f, 0.8f, 0, 0, 0, 0, 0.6f, 0.8f};
    for (int i = 0; i < 12; i++)
        assert_true(fabsf(v[i] - want[i]) < 1e-6f);
    /* the key never reaches the identity */
    json_t *id;
    assert_int_equal(fewshot_embedder_identity(e, &id), 0);
    char *text = json_dumps(id, 0);
    assert_null(strstr(text, "sk-test"));
    assert_non_null(strstr(text, "text-embedding-3-small"));
    free(text);
    json_decref(id);
    /* the reply holds 3 embeddings: asking for 2 is an error naming $.data */
    assert_int_equal(fewshot_embedder_embed(e, 2, in, v), FEWSHOT_EPARSE);
    assert_string_equal(fewshot_error_last()->path, "$.data");
    /* an HTTP error carries the server's message */
    r.status = 401;
    assert_int_equal(fewshot_embedder_embed(e, 3, in, v), FEWSHOT_EHTTP);
    assert_non_null(strstr(fewshot_error_last()->message, "HTTP 401"));
    fewshot_embedder_free(e);
    free(r.url), free(r.body), free(r.key);

    /* the parser alone: bad shapes name their JSON path */
    size_t dim = 0;
    float *vec;
    assert_int_equal(fewshot_embed_remote_parse("{\"data\": [{\"embedding\": [1, \"x\"]}]}", 1,
                                                &dim, &vec), FEWSHOT_EPARSE);
    assert_string_equal(fewshot_error_last()->path, "$.data[0].embedding[1]");
    dim = 0;
    assert_int_equal(fewshot_embed_remote_parse("{\"data\": [{\"embedding\": [1, 2]}, "
                                                "{\"embedding\": [1]}]}", 2, &dim, &vec),
                     FEWSHOT_EMISMATCH);
    assert_string_equal(fewshot_error_last()->path, "$.data[1].embedding");
    dim = 3;
    assert_int_equal(fewshot_embed_remote_parse("{\"data\": [{\"embedding\": [1, 2]}]}", 1, &dim,
                                                &vec), FEWSHOT_EMISMATCH);
    assert_int_equal(fewshot_embed_remote_parse("<html>", 1, &dim, &vec), FEWSHOT_EPARSE);
    dim = 0;
    assert_int_equal(fewshot_embed_remote_parse("{\"data\": [{\"index\": 0, \"embedding\": [1]},"
                                                "{\"index\": 0, \"embedding\": [2]}]}", 2, &dim,
                                                &vec), FEWSHOT_EPARSE);
    assert_string_equal(fewshot_error_last()->path, "$.data[1].index");
}

/* A server that quotes the key in its error (HTTP 401) or in a malformed body: the message
 * we keep holds the key masked, never in clear. */
static void test_remote_redacts_key(void **state)
{
    char dir[] = "/tmp/fewshot-embed-XXXXXX", file[128];
    assert_non_null(mkdtemp(dir));
    snprintf(file, sizeof file, "%s/reply.json", dir);
    const char *bodies[] = {"{\"error\": {\"message\": \"Incorrect API key: sk-canary-9876\"}}",
                            "sk-canary-9876 is not JSON"};
    long statuses[] = {401, 200};
    for (int t = 0; t < 2; t++) {
        FILE *f = fopen(file, "w");
        assert_non_null(f);
        fputs(bodies[t], f);
        fclose(f);
        replay r = {file, statuses[t], NULL, NULL, NULL, 0};
        fewshot_embedder_options o = FEWSHOT_EMBEDDER_OPTIONS_INIT;
        o.kind = "remote";
        o.base_url = "http://127.0.0.1:9/v1";
        o.model = "m";
        o.api_key_env = "FEWSHOT_TEST_EMBED_KEY";
        o.transport = replay_post;
        o.transport_data = &r;
        setenv("FEWSHOT_TEST_EMBED_KEY", "sk-canary-9876", 1);
        fewshot_embedder *e;
        assert_int_equal(fewshot_embedder_new(&e, &o), 0);
        fewshot_embed_input in = {NULL, 0, "x"};
        float v[8];
        assert_true(fewshot_embedder_embed(e, 1, &in, v) < 0);
        char buf[2048];
        fewshot_error_format(buf, sizeof buf);
        assert_null(strstr(buf, "canary"));
        if (t == 0)
            assert_non_null(strstr(buf, "Incorrect API key: ****"));
        fewshot_embedder_free(e);
        free(r.url), free(r.body), free(r.key);
    }
    unlink(file);
    rmdir(dir);
}

static void test_remote_unreachable(void **state)
{
    /* the default transport (libcurl): a closed port is a clear network error */
    fewshot_embedder_options o = FEWSHOT_EMBEDDER_OPTIONS_INIT;
    o.kind = "remote";
    o.base_url = "http://127.0.0.1:9/v1";
    o.model = "m";
    o.timeout_ms = 2000;
    fewshot_embedder *e;
    assert_int_equal(fewshot_embedder_new(&e, &o), 0);
    fewshot_embed_input in = {NULL, 0, "x"};
    float v[8];
    int rc = fewshot_embedder_embed(e, 1, &in, v);
    assert_true(rc == FEWSHOT_ENET || rc == FEWSHOT_ETIMEOUT);
    assert_non_null(strstr(fewshot_error_last()->message, "127.0.0.1:9/v1/embeddings"));
    fewshot_embedder_free(e);
    o.model = NULL;
    assert_int_equal(fewshot_embedder_new(&e, &o), FEWSHOT_EINVAL);
}

static void test_identity_and_index(void **state)
{
    char dir[] = "/tmp/fewshot-embed-XXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/demos.index", dir);
    float f[5][3] = {{1, 2, 3}, {2, 1, 0}, {0, 0, 1}, {5, 5, 5}, {3, 2, 1}};
    fewshot_embed_input in[5];
    for (int i = 0; i < 5; i++)
        in[i] = (fewshot_embed_input){f[i], 3, NULL};
    fewshot_embedder *e;
    assert_int_equal(fewshot_embedder_new(&e, NULL), 0);
    assert_int_equal(fewshot_embedder_fit(e, 5, in), 0);
    float v[15];
    assert_int_equal(fewshot_embedder_embed(e, 5, in, v), 0);
    fewshot_index *ix;
    assert_int_equal(fewshot_index_new(&ix, 3, NULL), 0);
    assert_int_equal(fewshot_index_add(ix, 5, v), 0);
    assert_int_equal(fewshot_embedder_stamp(e, ix), 0);
    assert_int_equal(fewshot_index_save(ix, path), 0);
    fewshot_index_free(ix);

    /* a fresh features embedder takes the statistics from the index and embeds alike */
    fewshot_index *back;
    assert_int_equal(fewshot_index_load(&back, path), 0);
    fewshot_embedder *fresh;
    assert_int_equal(fewshot_embedder_new(&fresh, NULL), 0);
    assert_int_equal(fewshot_embedder_match(fresh, back), 0);
    float w[15];
    assert_int_equal(fewshot_embedder_embed(fresh, 5, in, w), 0);
    assert_memory_equal(v, w, sizeof v);

    /* an index built by another embedder is refused, saying which */
    fewshot_embedder_options o = FEWSHOT_EMBEDDER_OPTIONS_INIT;
    o.kind = "text-hash";
    o.dim = 3;
    fewshot_embedder *th;
    assert_int_equal(fewshot_embedder_new(&th, &o), 0);
    assert_int_equal(fewshot_embedder_match(th, back), FEWSHOT_EMISMATCH);
    assert_non_null(strstr(fewshot_error_last()->message, "built by embedder features"));
    assert_non_null(strstr(fewshot_error_last()->message, "query embedder is text-hash"));
    /* same kind, other settings */
    fewshot_embedder_options fo = FEWSHOT_EMBEDDER_OPTIONS_INIT;
    fo.normalize = 1;
    fewshot_embedder *fn;
    assert_int_equal(fewshot_embedder_new(&fn, &fo), 0);
    assert_int_equal(fewshot_embedder_match(fn, back), FEWSHOT_EMISMATCH);
    /* a stamp whose dimension disagrees with the index */
    o.dim = 64;
    fewshot_embedder *th64;
    assert_int_equal(fewshot_embedder_new(&th64, &o), 0);
    assert_int_equal(fewshot_embedder_stamp(th64, back), FEWSHOT_EMISMATCH);
    /* an index without an embedder stamp */
    fewshot_index *bare;
    assert_int_equal(fewshot_index_new(&bare, 3, NULL), 0);
    assert_int_equal(fewshot_embedder_match(fresh, bare), FEWSHOT_EMISMATCH);
    assert_non_null(strstr(fewshot_error_last()->message, "records no embedder"));
    fewshot_index_free(bare);
    fewshot_embedder_free(th64);
    fewshot_embedder_free(fn);
    fewshot_embedder_free(th);
    fewshot_embedder_free(fresh);
    fewshot_embedder_free(e);
    fewshot_index_free(back);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
}

/* A user-defined embedder through the function table. */
static int c_embed(void *self, size_t n, const fewshot_embed_input *in, float *out)
{
    for (size_t i = 0; i < n; i++)
        out[i * 2] = (float)strlen(in[i].text), out[i * 2 + 1] = *(float *)self;
    return 0;
}
static size_t c_dim(void *self) { return 2; }
static int c_identity(void *self, json_t **out)
{
    *out = json_pack("{s:s, s:i}", "kind", "length", "dim", 2);
    return 0;
}
static const fewshot_embedder_ops custom = {
    .version = FEWSHOT_EMBEDDER_OPS_VERSION, .kind = "length", .embed = c_embed, .dim = c_dim,
    .identity = c_identity,
};

static void test_custom_table(void **state)
{
    static float bias = 7;
    fewshot_embedder *e;
    assert_int_equal(fewshot_embedder_new_ops(&e, &custom, &bias), 0);
    fewshot_embed_input in = {NULL, 0, "abc"};
    float v[2];
    assert_int_equal(fewshot_embedder_embed(e, 1, &in, v), 0);
    assert_true(v[0] == 3 && v[1] == 7);
    fewshot_embedder_free(e);
    bias = NAN;     /* the library checks what an embedder returns */
    assert_int_equal(fewshot_embedder_new_ops(&e, &custom, &bias), 0);
    assert_int_equal(fewshot_embedder_embed(e, 1, &in, v), FEWSHOT_ERANGE);
    fewshot_embedder_free(e);
    fewshot_embedder_ops broken = custom;
    broken.embed = NULL;
    assert_int_equal(fewshot_embedder_new_ops(&e, &broken, NULL), FEWSHOT_EINVAL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_features_standardized),
        cmocka_unit_test(test_text_hash),
        cmocka_unit_test(test_remote_recorded),
        cmocka_unit_test(test_remote_redacts_key),
        cmocka_unit_test(test_remote_unreachable),
        cmocka_unit_test(test_identity_and_index),
        cmocka_unit_test(test_custom_table),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
