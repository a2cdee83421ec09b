import Foundation

/// A fixed set of threads that run the parts of one job at a time: `run(body)` calls `body(0)` on
/// the calling thread and `body(i)` on worker `i` for `i` in `1..<count`, and returns when all have
/// finished. The threads live as long as the object, so a job costs two semaphore hand-overs instead
/// of a thread start, and every part of every job runs on a thread of its own: parts may wait for
/// each other (`SpinBarrier`) without deadlock.
public final class WorkerThreads {
    /// Threads taking part in a job, the caller included.
    public let count: Int
    private let shared: Shared

    public init(count: Int) {
        precondition(count > 0, "WorkerThreads: \(count) threads")
        self.count = count
        shared = Shared(workers: count - 1)
        for index in 1..<max(count, 1) {
            let shared = self.shared
            let thread = Thread { shared.serve(index) }
            thread.name = "landscape worker \(index)"
            thread.start()
        }
    }

    deinit { shared.stop() }

    /// Runs `body(part)` for every part in `0..<count`, each on its own thread, and waits for all.
    public func run(_ body: (Int) -> Void) {
        guard count > 1 else { return body(0) }
        withoutActuallyEscaping(body) { body in
            shared.start(body)
            body(0)
            shared.waitForWorkers()
        }
    }

    /// The state the workers read: the current job and the semaphores that hand it over. Each
    /// semaphore orders the memory accesses around it, so the job needs no lock of its own.
    private final class Shared: @unchecked Sendable {
        private let go: [DispatchSemaphore]
        private let done = DispatchSemaphore(value: 0)
        private var job: ((Int) -> Void)?
        private var stopping = false

        init(workers: Int) {
            go = (0..<workers).map { _ in DispatchSemaphore(value: 0) }
        }

        func start(_ body: @escaping (Int) -> Void) {
            job = body
            for semaphore in go { semaphore.signal() }
        }

        func waitForWorkers() {
            for _ in go { done.wait() }
            job = nil
        }

        func stop() {
            stopping = true
            for semaphore in go { semaphore.signal() }
        }

        /// A worker's loop: wait for a job, run its part, report.
        func serve(_ index: Int) {
            while true {
                go[index - 1].wait()
                if stopping { return }
                job?(index)
                done.signal()
            }
        }
    }
}

extension WorkerThreads {
    /// The processors this process may run on.
    public static var processors: Int { ProcessInfo.processInfo.activeProcessorCount }
}
