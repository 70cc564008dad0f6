/*
 * libfewshot: return codes and the per-thread last error.
 *
 * Every function that can fail returns 0 (FEWSHOT_OK) or a negative FEWSHOT_E* code and records
 * the details in a thread-local error, read with fewshot_error_last(). Parse errors also carry
 * the file, line, column, byte position and, for JSON documents, the JSON path of the fault.
 */
#ifndef FEWSHOT_ERROR_H
#define FEWSHOT_ERROR_H

#include <stdarg.h>
#include "fewshot/common.h"

FEWSHOT_BEGIN_DECLS

typedef enum fewshot_error_code {
    FEWSHOT_OK = 0,
    FEWSHOT_ERROR = -1,        /* generic failure */
    FEWSHOT_ENOMEM = -2,       /* out of memory */
    FEWSHOT_EINVAL = -3,       /* an argument or parameter is invalid */
    FEWSHOT_ENOTFOUND = -4,    /* a named thing (plugin, file, key) does not exist */
    FEWSHOT_EPARSE = -5,       /* malformed input: see line, column, path */
    FEWSHOT_EIO = -6,          /* reading or writing a file failed */
    FEWSHOT_EPLUGIN = -7,      /* a plugin could not be loaded or misbehaved */
    FEWSHOT_ERANGE = -8,       /* a value is out of range, NaN or infinite */
    FEWSHOT_EUSER = -9,        /* a user callback failed */
    FEWSHOT_ENET = -10,        /* a network or connection error */
    FEWSHOT_EHTTP = -11,       /* the server answered with an error status */
    FEWSHOT_ETIMEOUT = -12,    /* a deadline passed */
    FEWSHOT_EMISMATCH = -13,   /* two things that must agree do not (dimensions, configs) */
    FEWSHOT_EUNSUPPORTED = -14,/* the operation is not available here */
    FEWSHOT_ETRUNCATED = -15,  /* a reply or input was cut off */
    FEWSHOT_EAGAIN = -16,      /* not ready yet; try again later */
    FEWSHOT_EEXISTS = -17      /* the thing already exists */
} fewshot_error_code;

/* Details of the last error on this thread. Fields that do not apply are 0 or "". */
typedef struct fewshot_error {
    int code;               /* a fewshot_error_code */
    const char *message;    /* never NULL */
    const char *file;       /* file the fault is in, or "" */
    int line;               /* 1-based line, or 0 */
    int column;             /* 1-based column, or 0 */
    long position;          /* 0-based byte offset, or -1 */
    const char *path;       /* JSON path such as "$.llm.temperature", or "" */
} fewshot_error;

/* The last error recorded on this thread; never NULL (code 0 and "no error" when none). */
FEWSHOT_EXTERN(const fewshot_error *) fewshot_error_last(void);

/* Forget the last error on this thread. */
FEWSHOT_EXTERN(void) fewshot_error_clear(void);

/* A short constant description of a code, e.g. "parse error". */
FEWSHOT_EXTERN(const char *) fewshot_strerror(int code);

/* Record an error and return `code`, so callers can write `return fewshot_error_set(...)`. */
FEWSHOT_EXTERN(int) fewshot_error_set(int code, const char *fmt, ...) FEWSHOT_PRINTF(2, 3);
FEWSHOT_EXTERN(int) fewshot_error_setv(int code, const char *fmt, va_list ap) FEWSHOT_PRINTF(2, 0);

/* Record an error at a place in a file (line and column 1-based, 0 when unknown). */
FEWSHOT_EXTERN(int) fewshot_error_set_at(int code, const char *file, int line, int column,
                                         const char *fmt, ...) FEWSHOT_PRINTF(5, 6);

/* Record an error at a JSON path of a document (file may be NULL). */
FEWSHOT_EXTERN(int) fewshot_error_set_path(int code, const char *file, const char *path,
                                           const char *fmt, ...) FEWSHOT_PRINTF(4, 5);

/* Prefix the current message with "prefix: " (for adding context as an error travels up). */
FEWSHOT_EXTERN(void) fewshot_error_prefix(const char *fmt, ...) FEWSHOT_PRINTF(1, 2);

/* Write the last error as one line, "file:line:column: path: message", into buf. */
FEWSHOT_EXTERN(int) fewshot_error_format(char *buf, size_t size);

FEWSHOT_END_DECLS

#endif /* FEWSHOT_ERROR_H */
