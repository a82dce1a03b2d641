// SwiftPM wants one source file per C target; the inline helpers live in the header. The
// ThreadSanitizer annotations are here because only this file is compiled with the
// sanitizer's flags when there is one.
#include "janus_shims.h"

#if defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define JANUS_UNDER_TSAN 1
#endif
#endif

#ifdef JANUS_UNDER_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
void shim_tsan_release(void *addr) { __tsan_release(addr); }
void shim_tsan_acquire(void *addr) { __tsan_acquire(addr); }
int shim_under_tsan(void) { return 1; }
#else
void shim_tsan_release(void *addr) { (void)addr; }
void shim_tsan_acquire(void *addr) { (void)addr; }
int shim_under_tsan(void) { return 0; }
#endif
