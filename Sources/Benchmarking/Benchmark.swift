import Foundation
import LandscapeCore
import Networks
import Training
import Analysis

/// The timings of one workload.
public struct WorkloadTiming: Codable, Sendable {
    public var id: String
    public var unit: String
    public var median: Double
    public var min: Double
    public var max: Double
    /// Each timed repetition's rate, in order.
    public var repetitions: [Double]
    /// The process's peak resident memory, MiB.
    public var peakMemoryMiB: Double
    /// GEMM FLOP/s reached at the median, in GFLOP/s, and as a fraction of the machine's SGEMM rate
    /// measured just before the workload (`gemmCeiling()`; none for the Hessian, timed in seconds).
    public var gflops: Double
    public var gemmCeilingGflops: Double?
    public var fractionOfGemmCeiling: Double?
    public var bestPeer: Double?

    enum CodingKeys: String, CodingKey {
        case id, unit, median, min, max, repetitions
        case peakMemoryMiB = "peak_memory_mib", gflops, gemmCeilingGflops = "gemm_ceiling_gflops"
        case fractionOfGemmCeiling = "fraction_of_gemm_ceiling", bestPeer = "best_peer"
    }
}

/// Runs the reference workloads: a warm-up, then at least five timed repetitions of about
/// `secondsPerRepetition` each; the rate of a repetition is samples (or points) over its wall time.
public struct Benchmark {
    public var repetitions: Int
    public var secondsPerRepetition: Double

    public init(repetitions: Int = 5, secondsPerRepetition: Double = 1) {
        precondition(repetitions >= 1)
        self.repetitions = repetitions
        self.secondsPerRepetition = secondsPerRepetition
    }

    /// Times `workload` on `data` (images scaled as the reference says), in this process.
    public func measure(_ workload: Workload, data: Dataset) throws -> WorkloadTiming {
        if workload.kind == .hessian { return try measureHessian(workload, data: data) }
        let work = try self.work(workload, data: data)
        // A unit is a training step, an evaluation pass or a surface point.
        let warmUp = Self.seconds { try? work(3) } / 3
        let units = Swift.max(1, Int(secondsPerRepetition / Swift.max(warmUp, 1e-6)))
        var rates: [Double] = []
        for _ in 0..<repetitions {
            var failure: (any Error)?
            let seconds = Self.seconds { do { try work(units) } catch { failure = error } }
            if let failure { throw failure }
            rates.append(Double(units * (workload.kind == .surface ? 1 : workload.batchSize)) / seconds)
        }
        let sorted = rates.sorted()
        let median = sorted[sorted.count / 2]
        return WorkloadTiming(
            id: workload.id, unit: workload.unit, median: median, min: sorted.first!, max: sorted.last!,
            repetitions: rates, peakMemoryMiB: Self.peakMemoryMiB(),
            gflops: median * Double(workload.flopsPerSample) / 1e9, bestPeer: workload.bestPeer)
    }

    /// The Hessian workload is timed whole: seconds per top-eigenvalue computation (lower is better).
    private func measureHessian(_ workload: Workload, data: Dataset) throws -> WorkloadTiming {
        let network = Network<Float>(try Architecture(name: workload.model))
        network.initialize(seed: 0)
        let objective = NetworkObjective(network: network, data: try data.subset(.first(workload.batchSize)))
        let settings = HessianEigenvalueSettings(count: 1, tolerance: 1e-3)
        _ = objective.value(at: objective.origin)
        let times = (0..<repetitions).map { _ in Self.seconds { _ = Hessian.topEigenvalues(of: objective, at: objective.origin, settings: settings) } }
        let sorted = times.sorted()
        return WorkloadTiming(id: workload.id, unit: workload.unit, median: sorted[sorted.count / 2], min: sorted.first!, max: sorted.last!,
                              repetitions: times, peakMemoryMiB: Self.peakMemoryMiB(), gflops: 0, bestPeer: nil)
    }

    /// A function doing `n` units of the workload.
    private func work(_ workload: Workload, data: Dataset) throws -> (Int) throws -> Void {
        let architecture = try Architecture(name: workload.model)
        let network = Network<Float>(architecture)
        network.initialize(seed: 0)
        if workload.kind == .surface {
            let images = try data.subset(.first(2000))
            let axis = try GridAxis(argument: "-1:1:21").values
            let directions = (Direction.random(like: network, seed: 1), Direction.random(like: network, seed: 2))
            let computation = SurfaceComputation(network: network, x: axis, y: axis, directions: directions, sets: [("test", images)])
            let url = FileManager.default.temporaryDirectory.appendingPathComponent("landscape-bench-\(getpid()).h5")
            return { n in
                let file = try SurfaceFile.create(at: url, x: axis, y: axis, quantities: computation.quantities, attributes: [:], replacing: true)
                defer { file.close(); try? FileManager.default.removeItem(at: url) }
                try computation.run(into: file, limit: n)
            }
        }
        network.reserve(batch: workload.batchSize)
        // Training takes shuffled batches; evaluation goes through the set in order, as
        // `Network.evaluate` and the analyses do.
        let loader = BatchLoader(data, batchSize: workload.batchSize, seed: 0, shuffles: workload.kind != .eval)
        precondition(loader.batchCount >= 2, "Benchmark: not enough data for batches of \(workload.batchSize)")
        let optimizer = SGD(parameterCount: network.parameters.count, learningRate: 0.05, momentum: 0.9, weightDecay: 5e-4)
        let sam = SAM(base: optimizer, parameterCount: network.parameters.count, rho: 0.05)
        var batchIndex = 0
        return { n in
            for _ in 0..<n {
                if batchIndex >= loader.batchCount - 1 { batchIndex = 0 }  // full batches only
                loader.withBatch(batchIndex, on: network) { images, labels in
                    switch workload.kind {
                    case .sgd:
                        optimizer.step(network, images, labels: labels)
                    case .sam:
                        sam.step(network, images, labels: labels)
                    case .eval:
                        _ = network.loss(images, labels: labels, mode: .evaluation)
                    case .surface, .hessian:
                        preconditionFailure("timed on their own")
                    }
                }
                batchIndex += 1
            }
        }
    }

    /// The machine's single-precision GEMM rate in GFLOP/s: the fastest of seven 2048^3 SGEMMs
    /// through the same BLAS the layers use, all its threads (a ceiling, so the best run; on a
    /// shared machine the median drops with whatever else runs).
    public static func gemmCeiling() -> Double {
        let n = 2048
        let a = Buffer<Float>(count: n * n), b = Buffer<Float>(count: n * n), c = Buffer<Float>(count: n * n)
        for i in 0..<(n * n) {
            a.pointer[i] = Float(i % 7) * 0.1
            b.pointer[i] = Float(i % 5) * 0.1
        }
        func multiply() {
            Float.gemm(transposeA: false, transposeB: false, m: n, n: n, k: n, alpha: 1, a: a.pointer, lda: n,
                       b: b.pointer, ldb: n, beta: 0, c: c.pointer, ldc: n)
        }
        multiply()
        let fastest = (0..<7).map { _ in seconds(multiply) }.min()!
        return 2 * Double(n * n * n) / fastest / 1e9
    }

    /// Wall time of `work` in seconds.
    static func seconds(_ work: () -> Void) -> Double {
        WallClock.time(work).seconds
    }

    /// Peak resident set size of this process, in MiB: Linux's `VmHWM`, the high-water mark of
    /// this program's memory since it started. (`getrusage`'s `ru_maxrss`, the fallback elsewhere,
    /// also counts the memory of the process that spawned it, up to the `exec`: the bench's own
    /// SGEMM buffers.) The file is read to its end, since it reports a size of zero.
    static func peakMemoryMiB() -> Double {
        if let file = FileHandle(forReadingAtPath: "/proc/self/status") {
            defer { try? file.close() }
            let status = String(decoding: file.readDataToEndOfFile(), as: UTF8.self)
            if let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmHWM:") }),
               let kiB = Double(line.dropFirst("VmHWM:".count).split(whereSeparator: \.isWhitespace).first ?? "") {
                return kiB / 1024
            }
        }
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        return Double(usage.ru_maxrss) / 1024
    }
}
