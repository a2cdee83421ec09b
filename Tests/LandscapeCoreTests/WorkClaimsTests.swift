import LandscapeCore
import Synchronization
import Testing

/// Pieces claimed by runs: every piece once, whatever the threads' pace; each thread its own run
/// first.
struct WorkClaimsTests {
    final class Tally: Sendable {
        let count = Atomic<Int>(0)
    }

    @Test("on 1 to 5 threads, every piece of every phase is claimed exactly once, job after job", arguments: [1, 2, 3, 5])
    func everyPieceOnce(_ parties: Int) {
        let claims = WorkClaims(phases: 2)
        let workers = WorkerThreads(count: parties)
        let pieces = [0, 1, 7, 64]
        for round in 0..<50 {
            for count in pieces {
                let seen = (0..<2 * count).map { _ in Tally() }
                claims.reset(parties: parties)
                workers.run { part in
                    for phase in 0..<2 {
                        claims.forEach(count, phase: phase, part: part) { piece in seen[phase * count + piece].count.add(1, ordering: .relaxed) }
                    }
                }
                let counts = seen.map { $0.count.load(ordering: .relaxed) }
                #expect(counts.allSatisfy { $0 == 1 }, "round \(round), \(count) pieces: \(counts)")
            }
        }
    }

    @Test("a thread takes its own run in order first, then what the others left")
    func ownRunFirst() {
        let claims = WorkClaims(phases: 1)
        claims.reset(parties: 3)
        var taken: [[Int]] = [[], [], []]
        // Thread 1 alone takes its run (pieces 3 to 5 of 10), then runs 2 and 0; the others find nothing.
        for part in [1, 0, 2] { claims.forEach(10, phase: 0, part: part) { taken[part].append($0) } }
        #expect(taken[1] == [3, 4, 5, 6, 7, 8, 9, 0, 1, 2])
        #expect(taken[0].isEmpty && taken[2].isEmpty)
        claims.reset(parties: 3)
        taken = [[], [], []]
        for part in [0, 1, 2] {
            claims.forEach(10, phase: 0, part: part) { taken[part].append($0) }
        }
        #expect(taken[0] == Array(0..<10))
    }
}
