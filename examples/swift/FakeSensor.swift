import Glibc

/// A stand-in for a C library that owns a thread and reports readings through a C callback
/// with a context pointer, the shape of many real C APIs (audio, sensors, network stacks).
/// The callback runs on that foreign thread and may block it: the library waits for it.
struct FakeSensor {
    typealias Callback = @convention(c) (_ reading: Int32, _ context: UnsafeMutableRawPointer?) -> Void
    typealias Done = @convention(c) (_ context: UnsafeMutableRawPointer?) -> Void

    /// Starts the sensor thread: `count` readings, then `done`. Returns the thread to join.
    static func start(count: Int32, callback: Callback, done: Done, context: UnsafeMutableRawPointer?)
        -> pthread_t
    {
        let job = UnsafeMutablePointer<Job>.allocate(capacity: 1)
        job.initialize(to: Job(count: count, callback: callback, done: done, context: context))
        var thread = pthread_t()
        pthread_create(
            &thread, nil,
            { raw in
                let job = raw!.assumingMemoryBound(to: Job.self)
                defer {
                    job.deinitialize(count: 1)
                    job.deallocate()
                }
                for reading in 0..<job.pointee.count {
                    job.pointee.callback(reading, job.pointee.context)
                }
                job.pointee.done(job.pointee.context)
                return nil
            }, job)
        return thread
    }

    private struct Job {
        var count: Int32
        var callback: Callback
        var done: Done
        var context: UnsafeMutableRawPointer?
    }
}
