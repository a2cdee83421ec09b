import Foundation
import Synchronization

import CKernels
#if canImport(Glibc)
import Glibc
#endif

/// A fixed set of threads that run the parts of one job at a time: `run(body)` calls `body(0)` on
/// the calling thread and `body(i)` on worker `i` for `i` in `1..<count`, and returns when all have
/// finished. Every part of every job runs on a thread of its own, so parts may wait for each other
/// (`SpinBarrier`) without deadlock.
///
/// The threads live exactly as long as the object: `deinit` stops them and waits until each has
/// ended, so none is still on its way out when the object's owner goes on, or when the process
/// exits and the libraries' destructors run.
///
/// A job of a training step lasts about a millisecond, so waking a sleeping thread (tens of
/// microseconds) would show: a waiting thread spins for a while before it sleeps. (With 12 µs of
/// spinning, too short for the gap between two jobs, mlp.sgd's workers slept and were woken every
/// step, and the step ran 10% slower than with 250 µs.)
public final class WorkerThreads {
    /// Threads taking part in a job, the caller included.
    public let count: Int
    private let shared: Shared
    private let threads: [pthread_t]

    public init(count: Int) {
        precondition(count > 0, "WorkerThreads: \(count) threads")
        self.count = count
        let shared = Shared(workers: count - 1)
        self.shared = shared
        threads = (1..<count).map { index in Self.start { shared.serve(index) } }
    }

    deinit {
        shared.stop()
        for thread in threads { pthread_join(thread, nil) }
    }

    /// Runs `body(part)` for every part in `0..<count`, each on its own thread, and waits for all.
    public func run(_ body: (Int) -> Void) {
        guard count > 1 else { return body(0) }
        withoutActuallyEscaping(body) { body in
            shared.start(body)
            body(0)
            shared.waitForWorkers()
        }
    }

    /// What the caller and the workers share. `job` is written before `generation` moves on and read
    /// after a worker sees it move; workers count themselves into `finished` after their part, and the
    /// caller reads the results after it sees all of them there: the atomics order those accesses.
    private final class Shared: @unchecked Sendable {
        private let workers: Int
        private let generation = Atomic<Int>(0)
        private let finished = Atomic<Int>(0)
        private let wakers: [Waker]
        private let caller = Waker()
        private var job: ((Int) -> Void)?
        private var stopping = false

        init(workers: Int) {
            self.workers = workers
            wakers = (0..<workers).map { _ in Waker() }
        }

        func start(_ body: @escaping (Int) -> Void) {
            job = body
            finished.store(0, ordering: .relaxed)
            generation.add(1, ordering: .sequentiallyConsistent)
            for waker in wakers { waker.wake() }
        }

        func waitForWorkers() {
            caller.wait { finished.load(ordering: .sequentiallyConsistent) == workers }
            job = nil
        }

        func stop() {
            stopping = true
            generation.add(1, ordering: .sequentiallyConsistent)
            for waker in wakers { waker.wake() }
        }

        /// A worker's loop: wait for the next job, run its part, count itself finished.
        func serve(_ index: Int) {
            var seen = 0
            while true {
                wakers[index - 1].wait { generation.load(ordering: .sequentiallyConsistent) != seen }
                seen = generation.load(ordering: .sequentiallyConsistent)
                if stopping { return }
                job?(index)
                if finished.add(1, ordering: .sequentiallyConsistent).newValue == workers { caller.wake() }
            }
        }
    }

    /// Waits for a condition another thread makes true and then calls `wake()`: spins first, then
    /// sleeps on a semaphore. Before sleeping the waiter says so and looks at the condition once more;
    /// `wake` signals only a waiter that said so. Both in one sequentially consistent order, either the
    /// waiter sees the condition or the waker sees the waiter asleep, so no wake-up is lost (a stale
    /// signal only makes a later wait look again).
    private final class Waker: @unchecked Sendable {
        private let sleeping = Atomic<Bool>(false)
        private let semaphore = DispatchSemaphore(value: 0)
        /// How long a waiter looks before it sleeps: longer than the caller's own work between two
        /// jobs (the next batch copied in, the losses added up), so that a worker is awake for the next.
        private static let spinNanoseconds: UInt64 = 250_000

        func wait(until ready: () -> Bool) {
            let deadline = DispatchTime.now().uptimeNanoseconds + Self.spinNanoseconds
            repeat {
                for _ in 0..<1_000 where ready() { return }
            } while DispatchTime.now().uptimeNanoseconds < deadline
            while true {
                sleeping.store(true, ordering: .sequentiallyConsistent)
                if ready() {
                    sleeping.store(false, ordering: .sequentiallyConsistent)
                    return
                }
                semaphore.wait()
            }
        }

        func wake() {
            if sleeping.exchange(false, ordering: .sequentiallyConsistent) { semaphore.signal() }
        }
    }
}

extension WorkerThreads {
    /// Starts a thread that runs `body`, to be joined.
    private static func start(_ body: @escaping () -> Void) -> pthread_t {
        final class Work { let body: () -> Void; init(_ body: @escaping () -> Void) { self.body = body } }
        var thread = pthread_t()
        let status = pthread_create(&thread, nil, { context in
            Unmanaged<Work>.fromOpaque(context!).takeRetainedValue().body()
            return nil
        }, Unmanaged.passRetained(Work(body)).toOpaque())
        precondition(status == 0, "WorkerThreads: cannot start a thread (error \(status))")
        return thread
    }

    /// The processors this process may run on: its affinity mask where the system gives it (Linux),
    /// else the processors online. Foundation's count ignores the mask, and threads that wait for
    /// each other by spinning, more of them than processors, take turns at the speed of the
    /// scheduler's time slices.
    public static let processors: Int = {
        let allowed = Int(landscape_allowed_processors())
        return allowed > 0 ? allowed : ProcessInfo.processInfo.activeProcessorCount
    }()
}
