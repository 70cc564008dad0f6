/*
 * libfewshot: common definitions shared by every public header.
 */
#ifndef FEWSHOT_COMMON_H
#define FEWSHOT_COMMON_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define FEWSHOT_BEGIN_DECLS extern "C" {
#define FEWSHOT_END_DECLS }
#else
#define FEWSHOT_BEGIN_DECLS
#define FEWSHOT_END_DECLS
#endif

/* Marks a symbol as part of the public ABI: the library is built with -fvisibility=hidden,
 * so only what carries this macro is exported. */
#if defined(__GNUC__) || defined(__clang__)
#define FEWSHOT_EXTERN(type) __attribute__((visibility("default"))) type
#else
#define FEWSHOT_EXTERN(type) type
#endif

#if defined(__GNUC__) || defined(__clang__)
#define FEWSHOT_PRINTF(fmt, args) __attribute__((format(printf, fmt, args)))
#else
#define FEWSHOT_PRINTF(fmt, args)
#endif

#endif /* FEWSHOT_COMMON_H */
