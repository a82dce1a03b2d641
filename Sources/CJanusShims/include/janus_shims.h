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

#endif
