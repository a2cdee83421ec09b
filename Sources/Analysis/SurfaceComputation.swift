import Dispatch
import Foundation
import LandscapeCore
import Networks
import Training

/// Loss and accuracy on a 1-D or 2-D grid around a network's weights, `w(a, b) = w + a d1 + b d2`
/// (Li et al. 2018), on one or more evaluation sets, written cell by cell into a `SurfaceFile`.
///
/// Cells still holding -1 in the file are the ones computed, so a stopped run rerun on the same file
/// computes only what is missing and ends with the same values. The grid points are shared out
/// over `threads` workers, each with its own copy of the network running on the worker's thread
/// alone. A cell's value does not depend on which worker computed it, nor on how many there are.
public final class SurfaceComputation: @unchecked Sendable {
    public let network: Network<Float>
    public let x: [Double]
    public let y: [Double]?
    public let directions: (x: Direction, y: Direction?)
    /// Evaluation sets by name, e.g. `train` and `test`: quantities `<name>_loss` and `<name>_acc`.
    public let sets: [(name: String, data: Dataset)]
    public let mode: Mode
    public let threads: Int
    /// Samples per evaluation pass. Small batches keep each worker's activations in cache: on the
    /// cnn, 100 gave 6.6 points/s and 236 MiB against 5.2 points/s and 682 MiB at 500.
    public let batchSize: Int

    public init(network: Network<Float>, x: [Double], y: [Double]?, directions: (x: Direction, y: Direction?),
                sets: [(name: String, data: Dataset)], mode: Mode = .evaluation, threads: Int = WorkerThreads.processors, batchSize: Int = 100) {
        precondition((y == nil) == (directions.y == nil), "SurfaceComputation: a 2-D grid needs two directions")
        precondition(directions.x.parameters.count == network.parameters.count, "SurfaceComputation: direction does not fit the network")
        self.network = network
        self.x = x
        self.y = y
        self.directions = directions
        self.sets = sets
        self.mode = mode
        self.threads = max(1, threads)
        self.batchSize = batchSize
    }

    /// The names of the datasets a surface file of this computation holds.
    public var quantities: [String] { sets.flatMap { ["\($0.name)_loss", "\($0.name)_acc"] } }

    /// Computes the missing cells of `file` (at most `limit` of them, in row-major order), calling
    /// `progress(done, total)` after each (from the worker threads, one call at a time).
    public func run(into file: SurfaceFile, limit: Int? = nil, progress: @escaping (Int, Int) -> Void = { _, _ in }) throws {
        let remaining = try file.missingCells()
        let missing = Array(remaining.prefix(limit ?? Int.max))
        let total = x.count * (y?.count ?? 1)
        let done = total - remaining.count
        progress(done, total)
        guard !missing.isEmpty else { return }
        let schedule = CellSchedule(file: file, cells: missing, done: done, total: total, progress: progress)
        let workers = (0..<min(threads, missing.count)).map { _ in Worker(self) }
        DispatchQueue.concurrentPerform(iterations: workers.count) { index in
            let worker = workers[index]
            while let cell = schedule.next() {
                schedule.finish(cell, worker.evaluate(a: x[cell.i], b: y?[cell.j] ?? 0))
            }
        }
        if let failure = schedule.failure { throw failure }
    }

    /// The cells still to do, handed out one at a time, and the file their results go to; every
    /// access is under one lock, so workers share it safely.
    final class CellSchedule: @unchecked Sendable {
        private let lock = NSLock()
        private let file: SurfaceFile
        private let cells: [(i: Int, j: Int)]
        private var position = 0
        private var done: Int
        private let total: Int
        private let progress: (Int, Int) -> Void
        private(set) var failure: (any Error)?

        init(file: SurfaceFile, cells: [(i: Int, j: Int)], done: Int, total: Int, progress: @escaping (Int, Int) -> Void) {
            self.file = file
            self.cells = cells
            self.done = done
            self.total = total
            self.progress = progress
        }

        /// The next cell to compute, or nil when all are handed out or a write failed.
        func next() -> (i: Int, j: Int)? {
            lock.lock()
            defer { lock.unlock() }
            guard position < cells.count, failure == nil else { return nil }
            position += 1
            return cells[position - 1]
        }

        /// Writes a cell's values (flushed to disk) and reports progress.
        func finish(_ cell: (i: Int, j: Int), _ values: [String: Double]) {
            lock.lock()
            defer { lock.unlock() }
            do {
                try file.write(i: cell.i, j: cell.j, values)
                done += 1
                progress(done, total)
            } catch {
                failure = error
            }
        }
    }

    /// One thread's network, batches and point arithmetic.
    final class Worker: @unchecked Sendable {
        let computation: SurfaceComputation
        let network: Network<Float>
        let origin: [Double], originState: [Double]
        let loaders: [(name: String, loader: BatchLoader)]

        /// The network does not split batches: the workers already use the cores.
        init(_ computation: SurfaceComputation) {
            self.computation = computation
            network = computation.network.copy()
            network.threads = 1
            origin = network.parameters.elements.map(Double.init)
            originState = network.state.elements.map(Double.init)
            loaders = computation.sets.map { ($0.name, BatchLoader($0.data, batchSize: min(computation.batchSize, $0.data.count), seed: 0, shuffles: false)) }
        }

        /// Loss and accuracy of every set at `w + a d1 + b d2`.
        func evaluate(a: Double, b: Double) -> [String: Double] {
            let (dx, dy) = (computation.directions.x, computation.directions.y)
            Self.combine(origin, dx.parameters, dy?.parameters, a: a, b: b, into: network.parameters.pointer)
            if dx.state != nil || dy?.state != nil {
                Self.combine(originState, dx.state, dy?.state, a: a, b: b, into: network.state.pointer)
            }
            var values: [String: Double] = [:]
            for (name, loader) in loaders {
                let total = network.evaluate(loader, mode: computation.mode)
                values["\(name)_loss"] = total.loss
                values["\(name)_acc"] = total.accuracy
            }
            return values
        }

        /// `target[i] = base[i] + a * first[i] + b * second[i]` in Double, rounded once, a missing
        /// direction counting as zeros. Through buffer pointers: indexing the arrays, one of them
        /// optional, retained and released them at every element.
        private static func combine(_ base: [Double], _ first: [Double]?, _ second: [Double]?, a: Double, b: Double,
                                    into target: UnsafeMutablePointer<Float>) {
            base.withUnsafeBufferPointer { base in
                (first ?? []).withUnsafeBufferPointer { firstValues in
                    (second ?? []).withUnsafeBufferPointer { secondValues in
                        let (d1, d2) = (first == nil ? nil : firstValues.baseAddress, second == nil ? nil : secondValues.baseAddress)
                        for i in base.indices { target[i] = Float(base[i] + a * (d1?[i] ?? 0) + b * (d2?[i] ?? 0)) }
                    }
                }
            }
        }
    }
}
