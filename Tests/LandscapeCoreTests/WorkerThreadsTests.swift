import Foundation
import LandscapeCore
import Testing

/// The threads a network splits a batch between, and the barrier its batch-norm layers meet at.
struct WorkerThreadsTests {
    @Test("every part runs once per job, on a thread of its own, for many jobs")
    func partsRunOnce() {
        for count in [1, 2, 3] {
            let workers = WorkerThreads(count: count)
            let runs = UnsafeMutablePointer<Int>.allocate(capacity: count)
            defer { runs.deallocate() }
            runs.initialize(repeating: 0, count: count)
            for _ in 0..<500 { workers.run { part in runs[part] += 1 } }
            #expect((0..<count).allSatisfy { runs[$0] == 500 }, "\(count) threads")
        }
    }

    @Test("after a barrier every part sees what every other wrote before it, round after round")
    func barrierOrdersWrites() {
        let parts = 3
        let workers = WorkerThreads(count: parts)
        let barrier = SpinBarrier(parties: parts)
        let slots = UnsafeMutablePointer<Int>.allocate(capacity: parts)
        let mismatches = UnsafeMutablePointer<Int>.allocate(capacity: parts)
        defer { slots.deallocate(); mismatches.deallocate() }
        slots.initialize(repeating: -1, count: parts)
        mismatches.initialize(repeating: 0, count: parts)
        workers.run { part in
            for round in 0..<2_000 {
                slots[part] = round
                barrier.wait()
                for other in 0..<parts where slots[other] != round { mismatches[part] += 1 }
                barrier.wait()
            }
        }
        #expect((0..<parts).allSatisfy { mismatches[$0] == 0 })
    }

    @Test("when the object goes, its threads have ended: none outlives it")
    func deinitEndsThreads() throws {
        // Other tests start and end threads meanwhile, so this one follows its own threads by id
        // (each part reads "PID/task/TID" from /proc/thread-self), not the process's thread count.
        let parts = 3
        let ids = UnsafeMutablePointer<String>.allocate(capacity: parts)
        defer { ids.deinitialize(count: parts).deallocate() }
        ids.initialize(repeating: "", count: parts)
        var workers: WorkerThreads? = WorkerThreads(count: parts)
        workers?.run { part in ids[part] = (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/thread-self")) ?? "" }
        let tasks = (1..<parts).map { "/proc/" + ids[$0] }
        #expect(Set((0..<parts).map { ids[$0] }).count == parts && !ids[0].isEmpty)
        #expect(tasks.allSatisfy { FileManager.default.fileExists(atPath: $0) })
        workers = nil
        #expect(!tasks.contains { FileManager.default.fileExists(atPath: $0) })
    }
}
