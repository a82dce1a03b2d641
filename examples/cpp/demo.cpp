// demo.cpp - libjanus from C++17: RAII handles, std::thread producers and
// consumers, and Swift async consumers on the same queue.
//
//   demo [items-per-producer]        (default 20000)
//
// Four std::thread producers put heap-allocated std::string items into one
// bounded queue.  Two C++ consumer threads (the blocking face) and a Swift
// consumer with two tasks (the async face, janus_consume_async) take them.
// Every item must arrive exactly once, with the text it was made with.  Then
// two small queues check that items the queue still holds when it is shut
// down immediately or freed go to the destroy callback (which deletes them).
// Last, a queue of maxsize 2 checks the newer calls once each: the
// event-loop descriptor (fd), peek, clear, set_maxsize, getters and putters.
//
// Prints one result line and exits 0 when everything checks out, 1 if not.

#include <janus.h>

#include <poll.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <memory>
#include <new>
#include <stdexcept>
#include <string>
#include <system_error>
#include <thread>
#include <utility>
#include <vector>

namespace janus {

// An error from a janus call that cannot fail in a correct program.
class error : public std::runtime_error {
public:
    explicit error(const char *what) : std::runtime_error(what) {}
};

struct queue_deleter {
    void operator()(janus_queue *q) const noexcept { janus_queue_free(q); }
};
struct consumer_deleter {
    void operator()(janus_consumer *c) const noexcept { janus_consumer_free(c); }
};

// A janus_queue whose items are T objects made with `new`.  The queue owns
// what it holds: whatever it still holds when it is shut down immediately,
// closed or destroyed is deleted by the destroy callback and counted in
// discard_counter(), which can be read after the queue is gone.
// Ownership moves through std::unique_ptr: a put that succeeds releases the
// pointer, any other status leaves it with the caller, as in janus.h.
template <class T>
class owning_queue {
public:
    explicit owning_queue(std::size_t maxsize, janus_kind kind = JANUS_FIFO) {
        janus_options options{};
        options.kind = kind;
        options.maxsize = maxsize;
        options.destroy = &destroy;
        options.ctx = discarded_.get();  // shared: outlives the queue
        q_.reset(janus_queue_new_with(&options));
        if (!q_) throw std::bad_alloc();
    }

    janus_status put(std::unique_ptr<T> &item, std::int64_t timeout_ms = JANUS_WAIT_FOREVER) {
        janus_status st = janus_queue_put(q_.get(), item.get(), timeout_ms);
        if (st == JANUS_OK) item.release();  // the queue owns it now
        return st;
    }

    // On JANUS_OK, out owns the item taken (and the item counts as
    // unfinished until task_done()); on any other status out is untouched.
    janus_status get(std::unique_ptr<T> &out, std::int64_t timeout_ms = JANUS_WAIT_FOREVER) {
        void *item = nullptr;
        janus_status st = janus_queue_get(q_.get(), &item, timeout_ms);
        if (st == JANUS_OK) out.reset(static_cast<T *>(item));
        return st;
    }

    janus_status task_done() noexcept { return janus_queue_task_done(q_.get()); }
    janus_status join(std::int64_t timeout_ms = JANUS_WAIT_FOREVER) noexcept {
        return janus_queue_join(q_.get(), timeout_ms);
    }
    janus_status shutdown(bool immediate = false) noexcept {
        return janus_queue_shutdown(q_.get(), immediate);
    }
    std::size_t size() const noexcept { return janus_queue_qsize(q_.get()); }
    std::size_t maxsize() const noexcept { return janus_queue_maxsize(q_.get()); }
    std::size_t unfinished_tasks() const noexcept { return janus_queue_unfinished_tasks(q_.get()); }
    // Callers waiting in a get / a put right now (threads and Swift tasks).
    std::size_t getters() const noexcept { return janus_queue_getters(q_.get()); }
    std::size_t putters() const noexcept { return janus_queue_putters(q_.get()); }

    // The event-loop descriptor (janus_queue_fd): readable while a get
    // (JANUS_READABLE) or a put (JANUS_WRITABLE) would not wait; the same
    // descriptor on every call.  The queue owns it: never close it.  Throws
    // like the constructor, since a loop cannot go on without it:
    // std::system_error when the system has no descriptor left (errno),
    // janus::error for a `what` that is not a janus_ready.
    int fd(janus_ready what) const {
        int fd = -1;
        janus_status st = janus_queue_fd(q_.get(), what, &fd);
        if (st == JANUS_ESYS) throw std::system_error(errno, std::generic_category(), "janus_queue_fd");
        if (st != JANUS_OK) throw error(janus_strerror(st));
        return fd;
    }

    // The next item, left in the queue (janus_queue_peek).  On JANUS_OK, out
    // points at it, but the queue still owns it and any get may take (and
    // delete) it at once: dereference it only while no other thread or task
    // consumes.  On any other status out is untouched.
    janus_status peek(const T *&out, std::int64_t timeout_ms = JANUS_WAIT_FOREVER) {
        void *item = nullptr;
        janus_status st = janus_queue_peek(q_.get(), &item, timeout_ms);
        if (st == JANUS_OK) out = static_cast<const T *>(item);
        return st;
    }

    // Deletes every item held now (janus_queue_clear; they count in
    // discard_counter()) and answers how many.
    std::size_t clear() noexcept {
        std::size_t cleared = 0;
        janus_queue_clear(q_.get(), &cleared);  // fails only for a NULL queue
        return cleared;
    }

    // A new limit while in use; 0 = unbounded.  Growing admits waiting putters.
    janus_status set_maxsize(std::size_t maxsize) noexcept {
        return janus_queue_set_maxsize(q_.get(), maxsize);
    }
    janus_queue *handle() const noexcept { return q_.get(); }
    std::shared_ptr<const std::atomic<std::size_t>> discard_counter() const { return discarded_; }

private:
    static void destroy(void *item, void *ctx) noexcept {
        delete static_cast<T *>(item);
        static_cast<std::atomic<std::size_t> *>(ctx)->fetch_add(1);
    }

    std::shared_ptr<std::atomic<std::size_t>> discarded_ =
        std::make_shared<std::atomic<std::size_t>>(0);
    std::unique_ptr<janus_queue, queue_deleter> q_;  // freed first: before discarded_
};

// Swift tasks consuming an owning_queue<T> (janus_consume_async).  fn gets
// each item as a std::unique_ptr<T> and returns true to go on, false to stop
// the consumer.  It runs on Swift concurrency threads, several at once when
// tasks > 1: it must be thread safe, quick and must not block.  Destroying
// the consumer cancels it if it still runs and waits for its tasks to end.
// The queue must outlive the consumer.
template <class T>
class swift_consumer {
public:
    using function = std::function<bool(std::unique_ptr<T>)>;

    swift_consumer(owning_queue<T> &queue, function fn, std::size_t tasks)
        : fn_(std::make_unique<function>(std::move(fn))),
          c_(janus_consume_async(queue.handle(), &trampoline, fn_.get(), tasks)) {
        if (!c_) throw error("janus_consume_async failed");
    }

    janus_status wait(std::int64_t timeout_ms = JANUS_WAIT_FOREVER) noexcept {
        return janus_consumer_wait(c_.get(), timeout_ms);
    }
    void cancel() noexcept { janus_consumer_cancel(c_.get()); }

private:
    // Called from Swift: no exception may leave it.
    static int trampoline(void *item, void *ctx) noexcept {
        std::unique_ptr<T> owned(static_cast<T *>(item));
        try {
            return (*static_cast<function *>(ctx))(std::move(owned)) ? 0 : 1;
        } catch (...) {
            return 1;  // stop the consumer; owned is deleted on the way out
        }
    }

    std::unique_ptr<function> fn_;  // declared first: outlives c_
    std::unique_ptr<janus_consumer, consumer_deleter> c_;
};

}  // namespace janus

namespace {

constexpr unsigned kProducers = 4;
constexpr unsigned kCppConsumers = 2;
constexpr std::size_t kSwiftTasks = 2;
constexpr std::size_t kMaxsize = 64;

std::string item_text(unsigned producer, unsigned seq) {
    return "producer-" + std::to_string(producer) + "/item-" + std::to_string(seq);
}

// One slot per item ever made; each consumer bumps the slot of what it gets.
class tally {
public:
    explicit tally(unsigned per_producer)
        : per_producer_(per_producer), seen_(std::size_t{kProducers} * per_producer) {}

    // Thread safe; never throws (it is called from Swift too).
    void record(const std::string *item) noexcept {
        unsigned p = 0, i = 0;
        if (item == nullptr ||
            std::sscanf(item->c_str(), "producer-%u/item-%u", &p, &i) != 2 ||
            p >= kProducers || i >= per_producer_) {
            bad_.fetch_add(1);
            return;
        }
        seen_[std::size_t{p} * per_producer_ + i].fetch_add(1);
        // The text must be exactly what producer p made for i.
        char expect[64];
        std::snprintf(expect, sizeof expect, "producer-%u/item-%u", p, i);
        if (item->compare(expect) != 0) bad_.fetch_add(1);
    }

    // (missing, duplicated) once every thread is done.
    std::pair<std::size_t, std::size_t> check() const {
        std::size_t missing = 0, duplicated = 0;
        for (const auto &n : seen_) {
            unsigned v = n.load();
            if (v == 0) missing++;
            if (v > 1) duplicated += v - 1;
        }
        return {missing, duplicated};
    }
    std::size_t bad() const noexcept { return bad_.load(); }

private:
    unsigned per_producer_;
    std::vector<std::atomic<unsigned>> seen_;
    std::atomic<std::size_t> bad_{0};
};

// Puts n items into a fresh queue and lets the queue throw them away, by an
// immediate shutdown or by destroying the queue; answers how many the destroy
// callback deleted.
std::size_t discard_test(std::size_t n, bool immediate_shutdown) {
    std::shared_ptr<const std::atomic<std::size_t>> discarded;
    {
        janus::owning_queue<std::string> q(0);
        discarded = q.discard_counter();
        for (std::size_t i = 0; i < n; i++) {
            auto item = std::make_unique<std::string>("left behind " + std::to_string(i));
            if (q.put(item, JANUS_NO_WAIT) != JANUS_OK) return 0;
        }
        if (immediate_shutdown) {
            q.shutdown(true);  // destroy runs here, on this thread
            std::unique_ptr<std::string> none;
            if (q.get(none, JANUS_NO_WAIT) != JANUS_SHUTDOWN || q.size() != 0) return 0;
        }
    }  // ~owning_queue -> janus_queue_free -> destroy for each item still held
    return discarded->load();
}

// Waits (up to 10 s) until pred() holds, for another thread to reach a state.
template <class Pred>
bool eventually(Pred pred) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (!pred()) {
        if (std::chrono::steady_clock::now() > deadline) return false;
        std::this_thread::sleep_for(std::chrono::milliseconds(1));
    }
    return true;
}

// Whether fd is readable right now (poll without waiting).
bool readable_now(int fd) {
    pollfd p{fd, POLLIN, 0};
    return ::poll(&p, 1, 0) == 1 && (p.revents & POLLIN) != 0;
}

// The newer calls, each once with a check, on a queue of maxsize 2: fd,
// peek, putters and set_maxsize (a blocked putter admitted by a larger
// limit), clear, getters.  Answers how many checks failed.
unsigned extras_test() {
    unsigned failed = 0;
    auto check = [&](bool ok, const char *what) {
        if (!ok) {
            std::fprintf(stderr, "cpp demo: extras: %s failed\n", what);
            failed++;
        }
    };
    janus::owning_queue<std::string> q(2);
    auto put = [&](const char *text) {
        auto item = std::make_unique<std::string>(text);
        return q.put(item, JANUS_NO_WAIT);
    };

    // fd: one descriptor, readable once an item waits.
    const int fd = q.fd(JANUS_READABLE);
    check(fd >= 0 && q.fd(JANUS_READABLE) == fd, "fd: the same descriptor on every call");
    check(put("first") == JANUS_OK && put("second") == JANUS_OK, "put");
    check(readable_now(fd), "fd: readable while an item waits");
    bool threw = false;
    try {
        q.fd(static_cast<janus_ready>(3));  // not a janus_ready
    } catch (const janus::error &) {
        threw = true;
    }
    check(threw, "fd: throws janus::error for a bad janus_ready");

    // peek: the next item, still in the queue (we are its only consumer).
    const std::string *next = nullptr;
    check(q.peek(next, JANUS_NO_WAIT) == JANUS_OK && next != nullptr && *next == "first" &&
              q.size() == 2,
          "peek: sees \"first\" and leaves it");

    // putters + set_maxsize: a put into the full queue waits (one putter)
    // until a larger limit lets it in.
    janus_status third = JANUS_EINVAL;
    std::thread putter([&] {
        auto item = std::make_unique<std::string>("third");
        third = q.put(item, 10000);
    });
    check(eventually([&] { return q.putters() == 1; }), "putters: one put waiting");
    check(q.set_maxsize(3) == JANUS_OK && q.maxsize() == 3, "set_maxsize(3)");
    putter.join();
    check(third == JANUS_OK && q.size() == 3 && q.putters() == 0,
          "set_maxsize: the waiting put got in");

    // clear: all three deleted by the destroy callback, none left unfinished.
    const std::size_t cleared = q.clear();
    check(cleared == 3 && q.size() == 0 && q.unfinished_tasks() == 0 &&
              q.discard_counter()->load() == 3,
          "clear: 3 items deleted");
    // The descriptor goes quiet only when a get answers JANUS_EMPTY.
    std::unique_ptr<std::string> none;
    check(q.get(none, JANUS_NO_WAIT) == JANUS_EMPTY && !readable_now(fd),
          "fd: quiet after a get answered JANUS_EMPTY");

    // getters: a get on the empty queue waits (one getter) until a put.
    std::unique_ptr<std::string> got;
    janus_status fourth = JANUS_EINVAL;
    std::thread getter([&] { fourth = q.get(got, 10000); });
    check(eventually([&] { return q.getters() == 1; }), "getters: one get waiting");
    check(put("fourth") == JANUS_OK, "put for the getter");
    getter.join();
    check(fourth == JANUS_OK && got && *got == "fourth" && q.getters() == 0,
          "getters: the waiting get took it");
    q.task_done();
    return failed;
}

}  // namespace

int main(int argc, char **argv) {
    const unsigned per_producer =
        argc > 1 ? static_cast<unsigned>(std::strtoul(argv[1], nullptr, 10)) : 20000;
    const std::size_t total = std::size_t{kProducers} * per_producer;

    tally seen(per_producer);
    std::atomic<std::size_t> by_cpp{0}, by_swift{0}, errors{0};

    {
        janus::owning_queue<std::string> queue(kMaxsize);

        janus::swift_consumer<std::string> swift(
            queue,
            [&](std::unique_ptr<std::string> item) {
                seen.record(item.get());
                by_swift.fetch_add(1);
                return true;  // go on; item is deleted here
            },
            kSwiftTasks);

        std::vector<std::thread> consumers;
        for (unsigned c = 0; c < kCppConsumers; c++) {
            consumers.emplace_back([&] {
                for (;;) {
                    std::unique_ptr<std::string> item;
                    janus_status st = queue.get(item);
                    if (st == JANUS_SHUTDOWN) break;  // shut down and drained
                    if (st != JANUS_OK) { errors.fetch_add(1); break; }
                    seen.record(item.get());
                    by_cpp.fetch_add(1);
                    queue.task_done();
                }
            });
        }

        std::vector<std::thread> producers;
        for (unsigned p = 0; p < kProducers; p++) {
            producers.emplace_back([&, p] {
                for (unsigned i = 0; i < per_producer; i++) {
                    auto item = std::make_unique<std::string>(item_text(p, i));
                    if (queue.put(item) != JANUS_OK) {  // item is still ours
                        errors.fetch_add(1);
                        return;
                    }
                }
            });
        }
        for (auto &t : producers) t.join();

        if (queue.join(30000) != JANUS_OK) errors.fetch_add(1);  // all task_done
        queue.shutdown(false);                                    // let consumers end
        for (auto &t : consumers) t.join();
        if (swift.wait(30000) != JANUS_OK) errors.fetch_add(1);
        if (queue.discard_counter()->load() != 0) errors.fetch_add(1);  // none left behind
    }  // ~swift_consumer (janus_consumer_free), then ~owning_queue (janus_queue_free)

    const std::size_t by_shutdown = discard_test(10, true);
    const std::size_t by_free = discard_test(10, false);
    const unsigned extras_failed = extras_test();

    auto [missing, duplicated] = seen.check();
    const bool ok = errors == 0 && missing == 0 && duplicated == 0 && seen.bad() == 0 &&
                    by_cpp + by_swift == total && by_shutdown == 10 && by_free == 10 &&
                    extras_failed == 0;

    std::printf("cpp demo: %u producers x %u items -> %zu consumed (C++ threads %zu, Swift tasks %zu), "
                "missing %zu, duplicated %zu, corrupt %zu, errors %zu; destroyed by "
                "shutdown(immediate) %zu/10, by free %zu/10; fd, peek, clear, set_maxsize, "
                "getters, putters: %u failed checks (libjanus %s): %s\n",
                kProducers, per_producer, by_cpp + by_swift, by_cpp.load(), by_swift.load(),
                missing, duplicated, seen.bad(), errors.load(), by_shutdown, by_free,
                extras_failed, janus_version_string(), ok ? "OK" : "FAILED");
    return ok ? 0 : 1;
}
