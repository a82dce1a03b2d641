// SwiftPM wants one source file per C target; the inline helpers live in the header. The
// ThreadSanitizer annotations are here because only this file is compiled with the
// sanitizer's flags when there is one.
#include "janus_shims.h"

#include <errno.h>
#include <stdint.h>
#include <sys/eventfd.h>
#include <unistd.h>

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

int shim_eventfd(int *fd_out) {
    int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) return errno;
    *fd_out = fd;
    return 0;
}

int shim_eventfd_signal(int fd) {
    uint64_t one = 1;
    for (;;) {
        if (write(fd, &one, sizeof one) == (ssize_t)sizeof one) return 0;
        if (errno == EINTR) continue;
        /* EAGAIN: the count is at its maximum, so the descriptor is readable already. */
        return errno == EAGAIN ? 0 : errno;
    }
}

int shim_eventfd_drain(int fd) {
    uint64_t count;
    for (;;) {
        if (read(fd, &count, sizeof count) == (ssize_t)sizeof count) return 0;
        if (errno == EINTR) continue;
        return errno == EAGAIN ? 0 : errno; /* EAGAIN: it was 0 already */
    }
}

void shim_close(int fd) {
    /* Once: on Linux the descriptor is gone even when close is interrupted, and a second
     * close could hit a descriptor another thread has just opened. */
    (void)close(fd);
}
