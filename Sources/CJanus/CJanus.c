// CJanus carries include/janus.h into Swift (SwiftPM wants a source file per C target), and
// holds the library's warm-up before a fork().
//
// Why a warm-up: fork() copies every lock as it is, and a lock that another thread of the
// parent holds at that moment stays held in the child for ever. The Swift runtime makes each
// type's metadata lazily, the first time it is used, under a lock of its metadata cache; a
// parent whose threads or tasks are still making some of janus's types when it forks leaves a
// child whose first janus call waits for that lock for ever (seen: 1 child in 1,200 of a parent
// whose consumers had just started, all three of the child's threads waiting in
// swift_checkMetadataState). So before the process first forks, the forking thread takes every
// path of the C ABI once, on queues of its own: each type those paths need is made then, or,
// if another thread is making it, waited for until it is done. Once made, metadata is never
// made again, so once per process is enough; the cost (about 2 ms, two 1 ms timed waits that
// reach the parking code) falls only on processes that fork.
#include "../../include/janus.h"
#include "janus_shims.h"

#include <stddef.h>

static void warm_destroy(void *item, void *ctx) {
    (void)item;
    (void)ctx;
}

static int warm_compare(const void *a, const void *b, void *ctx) {
    (void)ctx;
    return (a > b) - (a < b);
}

static int warm_consume(void *item, void *ctx) {
    (void)item;
    (void)ctx;
    return 1;
}

static void warm_queue(janus_queue *q, int timed) {
    void *item = NULL, *items[3] = {NULL, NULL, NULL};
    size_t count = 0;
    int fd = -1;
    (void)janus_queue_fd(q, JANUS_READABLE, &fd);
    (void)janus_queue_fd(q, JANUS_WRITABLE, &fd);
    for (int i = 0; i < 3; i++) (void)janus_queue_put(q, NULL, JANUS_NO_WAIT);
    (void)janus_queue_put_many(q, items, 3, &count, JANUS_NO_WAIT);
    (void)janus_queue_peek(q, &item, JANUS_NO_WAIT);
    (void)janus_queue_get(q, &item, JANUS_NO_WAIT);
    (void)janus_queue_get_many(q, items, 3, &count, JANUS_NO_WAIT);
    while (janus_queue_task_done(q) == JANUS_OK) {
    }
    (void)janus_queue_join(q, JANUS_NO_WAIT);
    (void)janus_queue_get(q, &item, JANUS_NO_WAIT);
    if (timed) (void)janus_queue_get(q, &item, 1); /* the spin and the parking code */
    (void)janus_queue_qsize(q);
    (void)janus_queue_empty(q);
    (void)janus_queue_full(q);
    (void)janus_queue_maxsize(q);
    (void)janus_queue_unfinished_tasks(q);
    (void)janus_queue_getters(q);
    (void)janus_queue_putters(q);
    janus_select_op ops[2] = {{q, JANUS_SELECT_GET, NULL}, {q, JANUS_SELECT_PUT, NULL}};
    size_t which;
    (void)janus_select(ops, 2, &which, JANUS_NO_WAIT);
    (void)janus_select(ops, 1, &which, JANUS_NO_WAIT);
    (void)janus_queue_clear(q, &count);
    (void)janus_queue_set_maxsize(q, janus_queue_maxsize(q));
    (void)janus_queue_put(q, NULL, JANUS_NO_WAIT);
    (void)janus_queue_shutdown(q, false);
    (void)janus_queue_get(q, &item, JANUS_NO_WAIT);
    (void)janus_queue_shutdown(q, true);
    (void)janus_queue_is_shutdown(q);
    (void)janus_queue_wait_closed(q, JANUS_NO_WAIT);
    (void)janus_consume_async(NULL, warm_consume, NULL, 1); /* the argument checks only */
    janus_queue_free(q);
}

static void warm_up(void) {
    static const janus_kind kinds[] = {JANUS_FIFO, JANUS_LIFO, JANUS_PRIORITY};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
        warm_queue(janus_queue_new(kinds[k], 0), 0);
        warm_queue(janus_queue_new(kinds[k], 2), kinds[k] != JANUS_PRIORITY);
    }
    janus_options options = {JANUS_PRIORITY, 2, warm_destroy, warm_compare, NULL};
    warm_queue(janus_queue_new_with(&options), 0);
    (void)janus_strerror(JANUS_EFORK);
    (void)janus_version_string();
}

__attribute__((constructor)) static void register_warm_up(void) { shim_set_fork_warm_up(warm_up); }
