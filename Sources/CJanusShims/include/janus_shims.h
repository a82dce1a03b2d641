// Tiny helpers that Swift cannot spell itself. Internal to the package; not part of janus.h.
#ifndef JANUS_SHIMS_H
#define JANUS_SHIMS_H

/// Tells the CPU this is a spin-wait loop (x86 `pause`, ARM `yield`): it saves power and frees
/// the pipeline for the sibling hyperthread while a waiter spins briefly before parking.
static inline void janus_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ __volatile__("yield");
#endif
}

/// Asks the CPU to fetch the cache line at `p` for writing, ahead of the store that will need
/// it: a put warms the slots it is about to fill while the line is nobody else's business.
static inline void janus_prefetch_for_write(const void *p) {
    __builtin_prefetch(p, 1, 3);
}

/* ThreadSanitizer does not see that resuming a Swift continuation happens before the resumed
 * task runs (swiftlang/swift#57803): the queue tells it, releasing at each resume and
 * acquiring when a suspended waiter wakes. In shims.c, which SwiftPM compiles with the
 * sanitizer's flags (Swift's importer does not see them); empty functions without it. Not
 * named janus_*: libjanus.so exports exactly the janus_* symbols, the C ABI. */
void shim_tsan_release(void *addr);
void shim_tsan_acquire(void *addr);
int shim_under_tsan(void);

/* The readiness descriptors: Linux eventfds, made close-on-exec and nonblocking. Each returns
 * 0 or an errno (shim_eventfd: the descriptor through `fd_out`). The queue only ever adds 1 and
 * drains to 0: the descriptor is readable exactly while its count is not 0. */
int shim_eventfd(int *fd_out);
int shim_eventfd_signal(int fd);
int shim_eventfd_drain(int fd);
void shim_close(int fd);

/* ---- Process-wide values and fork() (fork.c) ----
 *
 * Plain C statics, set when the library is loaded (a constructor) and by a pthread_atfork child
 * handler: no Swift lazy global (each one a once lock of the Swift runtime) stands on a janus
 * entry path. Swift reads them through these inline functions, never as variables. */

/* Bumped in a forked child: an object made under another generation belongs to an ancestor
 * process. Written only by the child handler, while the child has no other thread yet. */
extern unsigned long shim_fork_generation_value;
static inline unsigned long shim_fork_generation(void) {
    return __atomic_load_n(&shim_fork_generation_value, __ATOMIC_RELAXED);
}

/* The cores this process may run on (at least 1), read when the library was loaded. */
extern long shim_online_cores_value;
static inline long shim_online_cores(void) {
    return __atomic_load_n(&shim_online_cores_value, __ATOMIC_RELAXED);
}

/* Waiters spinning in the whole process (SpinPolicy). Relaxed: a count, not a handshake. A
 * child starts at 0: the parent's spinners are not in it. */
extern long shim_spinners_value;
static inline long shim_spinners_add(long delta) {
    return __atomic_add_fetch(&shim_spinners_value, delta, __ATOMIC_RELAXED);
}

/* The selects of the whole process so far, counted for where each starts looking (JanusSelect). */
extern unsigned long shim_select_calls_value;
static inline unsigned long shim_select_calls_next(void) {
    return __atomic_fetch_add(&shim_select_calls_value, 1, __ATOMIC_RELAXED);
}

/* Whether Swift concurrency's threads may have been started by this process (the C library
 * says so before it starts a task) or by an ancestor it was forked from. After such a fork the
 * child has the pool's bookkeeping but none of its threads: a task started there may never
 * run, so the C library answers instead of starting one. */
void shim_note_tasks_started(void);
int shim_tasks_inherited(void);

/* What the thread that forks runs first, once per process, before its first fork (fork.c):
 * the C library's warm-up (Sources/CJanus/CJanus.c says why). */
void shim_set_fork_warm_up(void (*warm_up)(void));

/* Tests: the calling thread's copy of the Swift runtime's cached thread id (0: not cached, the
 * next lock reads it), or -1 when fork.c cannot find it (a stripped runtime). */
int shim_runtime_cached_tid(void);

#endif
