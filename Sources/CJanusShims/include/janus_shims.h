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

#endif
