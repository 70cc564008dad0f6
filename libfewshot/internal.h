/*
 * Internal helpers shared by the library's modules. Not installed; nothing here is exported.
 */
#ifndef FEWSHOT_INTERNAL_H
#define FEWSHOT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <jansson.h>

#define FEWSHOT_HIDDEN __attribute__((visibility("hidden")))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Validate params (may be NULL) against a plugin's params_doc and return a new object
 * with every default filled in. Unknown names and wrong JSON types are FEWSHOT_EINVAL with
 * the parameter named. */
FEWSHOT_HIDDEN int fewshot__params_resolve(const char *plugin_name, const char *params_doc,
                                           const json_t *params, json_t **out);

/* May template tpl show the view member `name` (a tag naming it first, at any depth)? 1 also
 * for a partial or a "." tag, which may show anything (template.c). */
struct fewshot_template;
FEWSHOT_HIDDEN int fewshot__template_mentions(const struct fewshot_template *tpl,
                                              const char *name);

/* obj[key] = v (a new reference, taken) for building an object member by member where
 * json_pack would parse its format and check each string again on every decision: returns
 * obj, or NULL (obj released) when obj or v is NULL or the member cannot be set, as
 * json_pack fails. key must be valid UTF-8 (a constant). */
static inline json_t *fewshot__put(json_t *obj, const char *key, json_t *v)
{
    if (!obj || !v) {
        json_decref(obj);
        json_decref(v);
        return NULL;
    }
    if (json_object_set_new_nocheck(obj, key, v) != 0) {
        json_decref(obj);       /* v was released by the failed set */
        return NULL;
    }
    return obj;
}

/* Rendered demonstrations shared by prompts (prompt.c). share_demos makes prompt p keep its
 * renderings of dataset demonstrations (not of its own history) in *shared (made on first
 * use) when *shared was rendered with p's templates, number format and action space, else p
 * keeps them with its own; entries of a shared cache match by the very contexts, action and
 * reward they were rendered from, and outlive fewshot_prompt_reset(). Holders of *shared
 * unref it. One thread at a time, as the retriever whose arm's agents share it. */
typedef struct fewshot__demo_cache fewshot__demo_cache;
struct fewshot_prompt;
FEWSHOT_HIDDEN int fewshot__prompt_share_demos(struct fewshot_prompt *p,
                                               fewshot__demo_cache **shared);
FEWSHOT_HIDDEN void fewshot__demo_cache_unref(fewshot__demo_cache *c);

/* A plugin's params_doc text parsed, kept for the process (read it, never change it): every
 * environment and prompt of a sweep reads the same few documents, and parsing one again for
 * each cost more than the rest of making a prompt. NULL when the text is NULL or not JSON, or
 * the process already keeps many documents (then parse it yourself). Thread-safe. */
FEWSHOT_HIDDEN const json_t *fewshot__params_doc(const char *params_doc);

/* Does JSON value v have the type named in a params_doc ("number", "integer", ...)? */
FEWSHOT_HIDDEN int fewshot__json_type_matches(const json_t *v, const char *type);

/* "an object", "an array", "a string", "an integer", "a number", "a boolean" or "null":
 * the kind of a JSON value as error messages name it. */
FEWSHOT_HIDDEN const char *fewshot__json_kind(const json_t *v);

/* Overwrite every occurrence of secret in s with '*' (secrets under 4 characters are left:
 * they would mask ordinary text). For messages copied from a server. */
FEWSHOT_HIDDEN void fewshot__redact(char *s, const char *secret);

/* Reorder v[0..n) (n > 0) so that v[k] is its k-th smallest value, smaller or equal ones
 * before it and larger or equal ones after; returns v[k]. Expected linear time. */
FEWSHOT_HIDDEN double fewshot__select_kth(double *v, size_t n, size_t k);
/* The same on this thread's last error (message, file and JSON path): for errors built from
 * a server's reply, such as a parser's "invalid token near '...'". */
FEWSHOT_HIDDEN void fewshot__error_redact(const char *secret);

/* demos.json, which stored datasets a run's arms used (demos_note.c). load gives the run
 * directory's note, or an empty one where there is none or it has another shape; add notes
 * that arm (NULL: none) used dataset id, keeping each dataset's arms sorted; combine adds
 * another note's datasets and arms (merge); save writes it atomically. */
FEWSHOT_HIDDEN json_t *fewshot__demos_note_load(const char *run_dir);
FEWSHOT_HIDDEN void fewshot__demos_note_add(json_t *doc, const char *id, const char *path,
                                            json_int_t transitions, const char *arm);
FEWSHOT_HIDDEN void fewshot__demos_note_combine(json_t *doc, const json_t *other);
FEWSHOT_HIDDEN int fewshot__demos_note_save(const char *run_dir, const json_t *doc);

/* The SHA-256 of the file at path as 64 hex digits in out; 0 when it cannot be read.
 * file_sha256.c */
FEWSHOT_HIDDEN int fewshot__file_sha256(const char *path, char out[65]);

/* The length of the prefix a and b (n bytes each) share. common_prefix.c */
FEWSHOT_HIDDEN size_t fewshot__common_prefix(const char *a, const char *b, size_t n);

/* Do two resolved configs describe the same run (equal but for execution-only settings
 * and the report section, which fewshot_config_hash leaves out)? config.c */
FEWSHOT_HIDDEN int fewshot__config_same_identity(const json_t *a, const json_t *b);

#include <stdio.h>
/* Atomic file writes (atomic_file.c): open a unique temporary file beside path (beside the
 * file it names, for a link), write to *f, then commit (flush, fsync, rename over it) or abort
 * (remove it). A device, FIFO or link into /proc is opened in place instead (*tmp NULL).
 * Commit and abort free tmp and close f. dump_json writes a whole JSON document that way. */
FEWSHOT_HIDDEN int fewshot__atomic_open(const char *path, FILE **f, char **tmp);
FEWSHOT_HIDDEN int fewshot__atomic_commit(FILE *f, char *tmp, const char *path);
FEWSHOT_HIDDEN void fewshot__atomic_abort(FILE *f, char *tmp);
FEWSHOT_HIDDEN int fewshot__atomic_dump_json(const json_t *doc, const char *path, size_t flags,
                                             const char *what);

/* Read one line (with its '\n', if any) into *line, growing it up to max bytes: 1 a line,
 * 0 end of file, -1 the line is longer than max (nothing sensible is that long), -2 out of
 * memory. *len is the length (NUL bytes included). For readers of outside input. */
FEWSHOT_HIDDEN int fewshot__read_line(FILE *f, char **line, size_t *cap, size_t max,
                                      size_t *len);

struct fewshot_env;
/* The signal a plugin call of env died of (plugin_guard.c), or 0: a crashed handle is never
 * reused. */
FEWSHOT_HIDDEN int fewshot__env_crashed(const struct fewshot_env *env);
/* The signal this thread's last fewshot_env_new() died of (create or spaces), or 0. */
FEWSHOT_HIDDEN int fewshot__env_new_crashed(void);

/* A growable text buffer, always NUL-terminated once written to. */
typedef struct fewshot__jbuf {
    char *data;
    size_t len, cap;
} fewshot__jbuf;
FEWSHOT_HIDDEN int fewshot__jbuf_add(fewshot__jbuf *b, const char *s, size_t n);
FEWSHOT_HIDDEN void fewshot__jbuf_free(fewshot__jbuf *b);

/* Append the compact JSON text of v to b: byte for byte json_dumps(v, JSON_COMPACT), with
 * JSON_SORT_KEYS when sort is set, leaving out the top-level object keys named in skip
 * (NULL-terminated, may be NULL). Fast on long strings (json_canon.c). 0 or -1 (no memory,
 * nesting deeper than jansson allows); on failure b is as before. */
FEWSHOT_HIDDEN int fewshot__json_canon(fewshot__jbuf *b, const json_t *v, int sort,
                                       const char *const *skip);
/* Append s (n bytes of valid UTF-8) as a JSON string literal, escaped as jansson does. */
FEWSHOT_HIDDEN int fewshot__json_canon_string(fewshot__jbuf *b, const char *s, size_t n);

/* Is s (n bytes, NUL allowed) valid UTF-8 as jansson accepts it? Fast on ASCII (utf8.c). */
FEWSHOT_HIDDEN int fewshot__utf8_valid(const char *s, size_t n);
/* json_stringn(s, n) at the cost of fewshot__utf8_valid: NULL when s is not valid UTF-8. */
FEWSHOT_HIDDEN json_t *fewshot__json_text(const char *s, size_t n);

/* SHA-256 in lower-case hex of texts that share a prefix with the one hashed before
 * (llm_digest.c): each keeps the last input and its hash state every 1 KB, so an episode's
 * next prompt is hashed from where it starts to differ. Not thread-safe: one per episode. */
typedef struct fewshot__digest fewshot__digest;
FEWSHOT_HIDDEN int fewshot__digest_new(fewshot__digest **out);
FEWSHOT_HIDDEN void fewshot__digest_free(fewshot__digest *d);
/* The digest of the n pieces one after the other (as if concatenated). */
FEWSHOT_HIDDEN int fewshot__digest_parts(fewshot__digest *d, const char *const *part,
                                         const size_t *len, size_t n, char hex[65]);
FEWSHOT_HIDDEN int fewshot__digest_text(fewshot__digest *d, const char *s, size_t n,
                                        char hex[65]);

/* The LLM cache key (cache.c) of a request whose canonical text is given: req is
 * fewshot__json_canon(body, sorted, without "stream" and "stream_options"). The same key as
 * fewshot_cache_key() of that body, without serializing it again; dg (may be NULL) hashes it
 * from where it differs from the last request dg saw. */
FEWSHOT_HIDDEN int fewshot__cache_key_text(const char *endpoint, size_t endpoint_len,
                                           const char *req, size_t req_len, const json_t *body,
                                           unsigned int sample, struct fewshot__digest *dg,
                                           char key[65]);
FEWSHOT_HIDDEN extern const char *const fewshot__cache_skip[];

/* fewshot_llm_submit() whose cache key is hashed by key_digest (NULL: the client's own), so
 * a caller that submits a stream of similar requests (an agent's episode) keeps their shared
 * prefix hashed once. */
struct fewshot_llm;
struct fewshot_llm_params;
FEWSHOT_HIDDEN int fewshot__llm_submit_keyed(struct fewshot_llm *llm, int endpoint,
                                             const json_t *input,
                                             const struct fewshot_llm_params *params,
                                             void *user, uint64_t *id,
                                             fewshot__digest *key_digest);

#endif
