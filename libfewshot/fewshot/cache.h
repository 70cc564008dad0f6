/*
 * libfewshot: a persistent LLM response cache in SQLite.
 *
 * An entry is keyed by the SHA-256 of the canonical request: the endpoint and the request body
 * as compact JSON with sorted keys, without credentials, headers or streaming flags, plus the
 * sample index when sampling is random (temperature not 0), so reruns of a sweep replay exactly
 * and new samples stay distinct. An entry holds the reply document, its token usage, the
 * latency of the original call and when it was stored; hits are counted.
 *
 * The database runs in WAL mode with a busy timeout, so several processes can share one file
 * and a crash loses nothing committed. The default file is $XDG_CACHE_HOME/fewshot/llm.sqlite
 * (~/.cache/fewshot/llm.sqlite).
 *
 * Thread-safety: a cache handle must be used by one thread at a time.
 */
#ifndef FEWSHOT_CACHE_H
#define FEWSHOT_CACHE_H

#include <jansson.h>
#include "fewshot/common.h"

FEWSHOT_BEGIN_DECLS

typedef struct fewshot_cache fewshot_cache;

#define FEWSHOT_CACHE_OPTIONS_VERSION 1
typedef struct fewshot_cache_options {
    unsigned int version;        /* FEWSHOT_CACHE_OPTIONS_VERSION */
    int read_only;               /* open without writing (the file must exist) */
    int busy_timeout_ms;         /* wait for other writers (default 10000) */
} fewshot_cache_options;
#define FEWSHOT_CACHE_OPTIONS_INIT {FEWSHOT_CACHE_OPTIONS_VERSION, 0, 0}
FEWSHOT_EXTERN(int) fewshot_cache_options_init(fewshot_cache_options *opts, unsigned int version);

/* The default cache file, written into buf: $XDG_CACHE_HOME/fewshot/llm.sqlite, or
 * $HOME/.cache/fewshot/llm.sqlite. FEWSHOT_ERANGE when buf is too small. */
FEWSHOT_EXTERN(int) fewshot_cache_default_path(char *buf, size_t size);

/* Open (creating it and its directory if needed) the cache at path (NULL: the default).
 * opts may be NULL. */
FEWSHOT_EXTERN(int) fewshot_cache_open(fewshot_cache **out, const char *path,
                                       const fewshot_cache_options *opts);
FEWSHOT_EXTERN(void) fewshot_cache_free(fewshot_cache *cache);
FEWSHOT_EXTERN(const char *) fewshot_cache_path(const fewshot_cache *cache);

/* The key of a request: hex SHA-256 of {"endpoint": endpoint, "request": body without
 * "stream"/"stream_options", "sample": sample} as compact JSON with sorted keys; "sample" is
 * left out when body has "temperature": 0. key receives 64 hex digits and a NUL. The client
 * passes the request URL without its query string as endpoint, so the same model name on two
 * servers gets distinct entries while credentials never enter the key. */
FEWSHOT_EXTERN(int) fewshot_cache_key(const char *endpoint, const json_t *body,
                                      unsigned int sample, char key[65]);

/* One stored reply. */
typedef struct fewshot_cache_entry {
    json_t *reply;               /* the reply document (new reference, caller owns) */
    uint64_t prompt_tokens;
    uint64_t completion_tokens;
    double latency;              /* seconds the original call took */
    double created;              /* Unix time it was stored */
    uint64_t hits;               /* hits recorded for this entry (at most one per hour) */
} fewshot_cache_entry;

/* Look key up. 0 and *entry filled (free entry->reply) on a hit, FEWSHOT_ENOTFOUND on a miss.
 * A hit is counted. */
FEWSHOT_EXTERN(int) fewshot_cache_get(fewshot_cache *cache, const char *key,
                                      fewshot_cache_entry *entry);

/* Store a reply under key (replacing any entry). model and endpoint are kept for stats. */
FEWSHOT_EXTERN(int) fewshot_cache_put(fewshot_cache *cache, const char *key,
                                      const char *endpoint, const char *model,
                                      const json_t *reply, uint64_t prompt_tokens,
                                      uint64_t completion_tokens, double latency);

typedef struct fewshot_cache_stats {
    uint64_t entries;
    uint64_t hits;               /* every hit served since the last clear */
    uint64_t bytes;              /* size of the stored replies */
    uint64_t file_bytes;         /* size of the database file (and its WAL) */
    uint64_t prompt_tokens;      /* tokens the stored calls used */
    uint64_t completion_tokens;
    double oldest;               /* Unix times, 0 when empty */
    double newest;
} fewshot_cache_stats;

FEWSHOT_EXTERN(int) fewshot_cache_get_stats(fewshot_cache *cache, fewshot_cache_stats *out);

/* Per-model breakdown: a JSON array of {"model","endpoint","entries","hits","bytes"}, where
 * hits are the per-entry counts (recorded at most once per hour per entry). */
FEWSHOT_EXTERN(int) fewshot_cache_models(fewshot_cache *cache, json_t **out);

/* Remove entries stored before Unix time `before` (0: no age limit), then the least recently
 * used ones beyond max_entries (0: no limit). *removed (may be NULL) gets the count. */
FEWSHOT_EXTERN(int) fewshot_cache_prune(fewshot_cache *cache, double before,
                                        uint64_t max_entries, uint64_t *removed);

/* Remove every entry. */
FEWSHOT_EXTERN(int) fewshot_cache_clear(fewshot_cache *cache, uint64_t *removed);

FEWSHOT_END_DECLS

#endif /* FEWSHOT_CACHE_H */
