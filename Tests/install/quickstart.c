/* The README quick start, built against an installed libjanus with nothing
 * but `cc quickstart.c $(pkg-config --cflags --libs janus) -pthread`:
 * the C main thread puts 1..N, one Swift task (janus_consume_async) sums them.
 * Prints "version <v> header <v> sum = <sum> expected <sum>"; exits 1 on any
 * mismatch. */
#include <janus.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int consume(void *item, void *ctx) {            /* runs in a Swift task */
    *(long *)ctx += (long)(intptr_t)item;             /* one task: no race */
    return 0;                                          /* 0 = go on */
}

int main(int argc, char **argv) {
    long n = argc > 1 ? atol(argv[1]) : 1000;
    long sum = 0;
    int ok = 1;

    if (janus_version_number() != JANUS_VERSION_NUMBER ||
        strcmp(janus_version_string(), JANUS_VERSION_STRING) != 0) {
        fprintf(stderr, "version mismatch: header %s, library %s\n",
                JANUS_VERSION_STRING, janus_version_string());
        ok = 0;
    }

    janus_queue *q = janus_queue_new(JANUS_FIFO, 1024);
    janus_consumer *c = janus_consume_async(q, consume, &sum, 1);
    if (q == NULL || c == NULL) {
        fprintf(stderr, "janus_queue_new / janus_consume_async failed\n");
        return 1;
    }
    for (long i = 1; i <= n; i++) {
        janus_status st = janus_queue_put(q, (void *)(intptr_t)i, JANUS_WAIT_FOREVER);
        if (st != JANUS_OK) {
            fprintf(stderr, "put %ld: %s\n", i, janus_strerror(st));
            ok = 0;
            break;
        }
    }
    janus_queue_join(q, JANUS_WAIT_FOREVER);           /* every item consumed */
    janus_queue_shutdown(q, false);
    if (janus_consumer_wait(c, 10000) != JANUS_OK) {
        fprintf(stderr, "consumer did not end\n");
        ok = 0;
    }
    janus_consumer_free(c);
    janus_queue_free(q);

    long expected = n * (n + 1) / 2;
    printf("version %s header %s sum = %ld expected %ld\n",
           janus_version_string(), JANUS_VERSION_STRING, sum, expected);
    return ok && sum == expected ? 0 : 1;
}
