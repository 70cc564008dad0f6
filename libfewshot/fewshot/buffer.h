/*
 * libfewshot: the online buffer: a bounded ring of the current episode's transitions with
 * their rewards (the paper's "historical demonstrations"). When full, pushing drops the
 * oldest transition.
 *
 * Thread-safety: one buffer belongs to one episode and one thread.
 */
#ifndef FEWSHOT_BUFFER_H
#define FEWSHOT_BUFFER_H

#include "fewshot/common.h"
#include "fewshot/demo.h"

FEWSHOT_BEGIN_DECLS

typedef struct fewshot_buffer fewshot_buffer;

/* A buffer holding at most capacity (>= 1) transitions. */
FEWSHOT_EXTERN(int) fewshot_buffer_new(fewshot_buffer **out, size_t capacity);
FEWSHOT_EXTERN(void) fewshot_buffer_free(fewshot_buffer *buf);

/* Append a copy of t (checked as fewshot_demos_add() does), dropping the oldest when full. */
FEWSHOT_EXTERN(int) fewshot_buffer_push(fewshot_buffer *buf, const fewshot_demo *t);

/* Transitions held now (<= capacity), and the capacity. */
FEWSHOT_EXTERN(size_t) fewshot_buffer_count(const fewshot_buffer *buf);
FEWSHOT_EXTERN(size_t) fewshot_buffer_capacity(const fewshot_buffer *buf);

/* Total pushes since the last clear (count stops at capacity; this does not). */
FEWSHOT_EXTERN(uint64_t) fewshot_buffer_pushed(const fewshot_buffer *buf);

/* Transition i, 0 = the oldest held, count-1 = the newest; NULL when out of range. */
FEWSHOT_EXTERN(const fewshot_demo *) fewshot_buffer_get(const fewshot_buffer *buf, size_t i);

/* Forget everything (at the start of an episode). */
FEWSHOT_EXTERN(void) fewshot_buffer_clear(fewshot_buffer *buf);

FEWSHOT_END_DECLS

#endif /* FEWSHOT_BUFFER_H */
