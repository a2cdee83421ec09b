import Synchronization

#if canImport(Glibc)
import Glibc
#endif

/// A reusable barrier for the parts of one `WorkerThreads` job: `wait()` returns once `parties`
/// threads have called it. The waits are short (the parts do equal work), so waiters spin; when the
/// machine is busier than the job, a waiter yields its core and then sleeps in short naps, so that
/// the threads it waits for can run.
///
/// Sense reversal (Mellor-Crummey and Scott 1991): each round flips `generation`, so a thread
/// leaving one round cannot be confused with one arriving at the next.
public final class SpinBarrier: @unchecked Sendable {
    public private(set) var parties: Int
    private let arrived = Atomic<Int>(0)
    private let generation = Atomic<Int>(0)

    public init(parties: Int) {
        precondition(parties > 0, "SpinBarrier: \(parties) parties")
        self.parties = parties
    }

    /// Changes the number of parties; only between jobs, when nobody waits.
    public func reset(parties: Int) {
        precondition(parties > 0, "SpinBarrier: \(parties) parties")
        self.parties = parties
        arrived.store(0, ordering: .relaxed)
    }

    public func wait() {
        guard parties > 1 else { return }
        let round = generation.load(ordering: .acquiring)
        if arrived.wrappingAdd(1, ordering: .acquiringAndReleasing).newValue == parties {
            arrived.store(0, ordering: .relaxed)
            generation.store(round &+ 1, ordering: .releasing)
            return
        }
        var spins = 0
        while generation.load(ordering: .acquiring) == round {
            spins += 1
            if spins > 20_000 {
                usleep(50)
            } else if spins > 4_000 {
                sched_yield()
            }
        }
    }
}
