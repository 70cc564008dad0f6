/*
 * Internal: crash containment for plugin calls (plugin_guard.c). Not installed.
 *
 *     fewshot__guard_frame f;
 *     GUARD_CALL(f, rc = plugin->step(...));
 *     if (f.sig) ... the plugin crashed with signal f.sig
 */
#ifndef FEWSHOT_PLUGIN_GUARD_H
#define FEWSHOT_PLUGIN_GUARD_H

#include <setjmp.h>

#include "internal.h"

typedef struct fewshot__guard_frame {
    sigjmp_buf jb;
    struct fewshot__guard_frame *prev;
    volatile int sig;           /* 0, or the signal that ended the call */
} fewshot__guard_frame;

FEWSHOT_HIDDEN extern _Thread_local fewshot__guard_frame *fewshot__guard_top;

/* Turn guarding on or off for the process (nested calls count); the sweep guards its run. */
FEWSHOT_HIDDEN int fewshot__guard_enable(void);
FEWSHOT_HIDDEN void fewshot__guard_disable(void);
FEWSHOT_HIDDEN int fewshot__guard_enabled(void);
FEWSHOT_HIDDEN const char *fewshot__guard_signame(int sig);

/* Run stmt; if a fatal signal ends it, f.sig says which. The mask is not saved by sigsetjmp
 * (a system call per plugin call); SA_NODEFER leaves the signal unblocked after the jump. */
#define GUARD_CALL(f, stmt)                                              \
    do {                                                                 \
        (f).sig = 0;                                                     \
        if (!fewshot__guard_enabled()) {                                 \
            stmt;                                                        \
        } else if (sigsetjmp((f).jb, 0) == 0) {                          \
            (f).prev = fewshot__guard_top;                               \
            fewshot__guard_top = &(f);                                   \
            stmt;                                                        \
            fewshot__guard_top = (f).prev;                               \
        }                                                                \
    } while (0)

#endif
