/*
 * demo_select.c - one worker thread waiting on two queues at once with
 * janus_select(): a data queue of jobs and a control queue of commands.
 *
 * A producer thread puts N jobs into a bounded data queue.  Main sends
 * commands on the control queue: "pause report" halfway (the worker prints
 * its progress) and "stop" at the end.  The worker waits on both queues in
 * one call and learns from the index which one spoke; a select performs
 * exactly one operation, so a job is never taken and lost when the control
 * queue wins.  On "stop" the worker drains the jobs that are still queued
 * (a plain get with JANUS_NO_WAIT), so in the end
 *     jobs put == jobs done
 *
 *   usage: demo_select [N]        N = jobs (default 10000)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "janus.h"

enum { CMD_REPORT = 1, CMD_STOP = 2 };

struct shared {
    janus_queue *data;
    janus_queue *control;
    unsigned long n;
    unsigned long done;
    unsigned long sum;
};

static void *producer(void *arg)
{
    struct shared *s = arg;
    for (unsigned long i = 1; i <= s->n; i++)
        if (janus_queue_put(s->data, (void *)(uintptr_t)i, JANUS_WAIT_FOREVER) != JANUS_OK)
            break;
    return NULL;
}

static void run_job(struct shared *s, void *job)
{
    s->sum += (unsigned long)(uintptr_t)job;
    s->done++;
    janus_queue_task_done(s->data);
}

static void *worker(void *arg)
{
    struct shared *s = arg;
    janus_select_op ops[2] = {
        { s->data, JANUS_SELECT_GET, NULL },
        { s->control, JANUS_SELECT_GET, NULL },
    };
    size_t which;
    janus_status status;
    while ((status = janus_select(ops, 2, &which, JANUS_WAIT_FOREVER)) == JANUS_OK) {
        if (which == 0) {
            run_job(s, ops[0].item);
            continue;
        }
        intptr_t command = (intptr_t)ops[1].item;
        janus_queue_task_done(s->control);
        if (command == CMD_REPORT)
            printf("worker: %lu jobs done so far\n", s->done);
        if (command == CMD_STOP)
            break;
    }
    if (status != JANUS_OK)
        fprintf(stderr, "worker: select answered %s\n", janus_strerror(status));
    /* Stopped: what is still queued is ours to finish. */
    void *job;
    while (janus_queue_get(s->data, &job, JANUS_NO_WAIT) == JANUS_OK)
        run_job(s, job);
    return NULL;
}

int main(int argc, char **argv)
{
    struct shared s = { 0 };
    s.n = argc > 1 ? strtoul(argv[1], NULL, 10) : 10000;
    s.data = janus_queue_new(JANUS_FIFO, 64);
    s.control = janus_queue_new(JANUS_FIFO, 0);
    if (!s.data || !s.control)
        return 1;
    pthread_t p, w;
    pthread_create(&w, NULL, worker, &s);
    pthread_create(&p, NULL, producer, &s);
    janus_queue_put(s.control, (void *)(intptr_t)CMD_REPORT, JANUS_WAIT_FOREVER);
    pthread_join(p, NULL);
    janus_queue_join(s.data, JANUS_WAIT_FOREVER);  /* every job done ... */
    janus_queue_put(s.control, (void *)(intptr_t)CMD_STOP, JANUS_WAIT_FOREVER);  /* ... then stop */
    pthread_join(w, NULL);
    unsigned long expected = s.n * (s.n + 1) / 2;
    printf("demo_select: %lu jobs put, %lu done, sum %lu (expected %lu)\n", s.n, s.done, s.sum, expected);
    janus_queue_free(s.data);
    janus_queue_free(s.control);
    return s.done == s.n && s.sum == expected ? 0 : 1;
}
