/*
 * Crash containment for plugin calls. A plugin is code we load, and a bug in it (a NULL
 * dereference, an assert) would otherwise end the whole sweep with every rerun dying at the
 * same episode. While guarding is on, a fatal signal raised inside a guarded plugin call
 * jumps back to the call site, which fails that call (and its environment handle, which is
 * never used again) with the signal named. Outside a guarded call the signal goes to the
 * handler that was installed before us, so nothing else changes.
 *
 * What this cannot undo: memory the plugin corrupted before it crashed, or a lock it held.
 * Plugins are trusted code (fewshot(1), SECURITY); this is for their bugs, not for attacks.
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "plugin_guard.h"

static const int guarded_signals[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
#define N_SIGNALS (sizeof guarded_signals / sizeof guarded_signals[0])

static struct sigaction previous[N_SIGNALS];
static int enabled;             /* nesting count of fewshot__guard_enable() */
static void *alt_stack;         /* so a stack overflow in a plugin can still be caught */
static stack_t previous_stack;

_Thread_local fewshot__guard_frame *fewshot__guard_top;

static void on_fatal(int sig, siginfo_t *info, void *uc)
{
    fewshot__guard_frame *f = fewshot__guard_top;
    if (f) {
        fewshot__guard_top = f->prev;
        f->sig = sig;
        siglongjmp(f->jb, 1);
    }
    /* not inside a plugin call: whoever handled this before us does */
    for (size_t i = 0; i < N_SIGNALS; i++) {
        if (guarded_signals[i] != sig)
            continue;
        if (previous[i].sa_flags & SA_SIGINFO) {
            if (previous[i].sa_sigaction) {
                previous[i].sa_sigaction(sig, info, uc);
                return;
            }
        } else if (previous[i].sa_handler != SIG_DFL && previous[i].sa_handler != SIG_IGN) {
            previous[i].sa_handler(sig);
            return;
        }
    }
    /* default action: return so the faulting instruction runs again under SIG_DFL, or, for
     * a raised signal, raise it again */
    signal(sig, SIG_DFL);
    if (info && info->si_code <= 0)
        raise(sig);
}

int fewshot__guard_enable(void)
{
    if (enabled++)
        return 0;
    size_t size = 64 * 1024;
    if ((alt_stack = malloc(size)) != NULL) {
        stack_t ss = {.ss_sp = alt_stack, .ss_size = size, .ss_flags = 0};
        if (sigaltstack(&ss, &previous_stack) != 0) {
            free(alt_stack);
            alt_stack = NULL;
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fatal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < N_SIGNALS; i++)
        sigaction(guarded_signals[i], &sa, &previous[i]);
    return 0;
}

void fewshot__guard_disable(void)
{
    if (enabled == 0 || --enabled)
        return;
    for (size_t i = 0; i < N_SIGNALS; i++)
        sigaction(guarded_signals[i], &previous[i], NULL);
    if (alt_stack) {
        sigaltstack(&previous_stack, NULL);
        free(alt_stack);
        alt_stack = NULL;
    }
}

int fewshot__guard_enabled(void)
{
    return enabled > 0;
}

const char *fewshot__guard_signame(int sig)
{
    switch (sig) {
    case SIGSEGV: return "SIGSEGV";
    case SIGBUS: return "SIGBUS";
    case SIGFPE: return "SIGFPE";
    case SIGILL: return "SIGILL";
    case SIGABRT: return "SIGABRT";
    default: return "a signal";
    }
}
