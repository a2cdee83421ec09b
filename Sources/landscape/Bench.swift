import ArgumentParser
import Benchmarking
import Foundation
import LandscapeCore
import Training

/// `landscape bench`: the reference workloads, each in a child process of its own so that its peak
/// memory is its own; JSON on standard output, a table on standard error.
struct Bench: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Time the reference workloads (shared/bench/WORKLOADS.md).")

    @Argument(help: "Workloads to run (default: all), e.g. cnn.sgd mlp.eval.")
    var workloads: [String] = []
    @Option(help: "Timed repetitions per workload (at least 5 for reported figures).")
    var repetitions = 5
    @Option(help: "Approximate seconds per repetition.")
    var seconds = 1.0
    @Flag(help: .hidden)
    var inProcess = false

    func validate() throws {
        guard repetitions >= 1 else { throw ValidationError("--repetitions must be at least 1") }
        guard seconds > 0 else { throw ValidationError("--seconds must be positive") }
        for id in workloads where Workload(id: id) == nil {
            throw ValidationError("unknown workload '\(id)'; known: \(Workload.all.map(\.id).joined(separator: ", "))")
        }
    }

    func run() throws {
        let selected = workloads.isEmpty ? Workload.all : workloads.compactMap(Workload.init(id:))
        let benchmark = Benchmark(repetitions: repetitions, secondsPerRepetition: seconds)
        // The benchmark times throughput, not accuracy, so the 10,000 test images serve every workload
        // but the Hessian's, which WORKLOADS.md defines on training images.
        if inProcess {
            for workload in selected {
                let data = try FashionMNIST.load(split: workload.kind == .hessian ? .train : .test)
                let measurement = try benchmark.measure(workload, data: data)
                print(String(decoding: try JSONEncoder().encode(measurement), as: UTF8.self))
            }
            return
        }
        FileHandle.standardError.write(Data(("\(WorkerThreads.processors) threads; SGEMM rate (OpenBLAS kernels: \(BLASKernel.name))"
                                             + " measured before each workload\n" + Self.header).utf8))
        var results: [WorkloadTiming] = []
        for workload in selected {
            // A shared machine's speed drifts within minutes, so each workload's fraction is of the
            // rate just before it rather than of one figure for the whole run.
            let ceiling = workload.flopsPerSample > 0 ? Benchmark.gemmCeiling() : nil
            var measurement = try runChild(workload)
            if let ceiling {
                measurement.gemmCeilingGflops = ceiling
                measurement.fractionOfGemmCeiling = measurement.gflops / ceiling
            }
            results.append(measurement)
            FileHandle.standardError.write(Data(Self.row(measurement).utf8))
        }
        let report = Report(blasKernel: BLASKernel.name, threads: WorkerThreads.processors, workloads: results)
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        print(String(decoding: try encoder.encode(report), as: UTF8.self))
    }

    /// Runs one workload in a fresh process of this same executable.
    private func runChild(_ workload: Workload) throws -> WorkloadTiming {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath()
        process.arguments = ["bench", "--in-process", workload.id, "--repetitions", "\(repetitions)",
                             "--seconds", "\(seconds)"]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let bytes = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ValidationError("benchmark of \(workload.id) failed with status \(process.terminationStatus)")
        }
        return try JSONDecoder().decode(WorkloadTiming.self, from: bytes)
    }

    /// The width of a row's rate and fraction, blank for the Hessian.
    private static let rateWidth = 42

    static let header: String = {
        func right(_ text: String, _ width: Int) -> String { String(repeating: " ", count: width - text.count) + text }
        return "workload".padding(toLength: 14, withPad: " ", startingAt: 0) + " " + right("median", 10) + " (" + right("min", 8) + ".."
            + right("max", 8) + ") " + right("best peer", 10) + right("ratio", 7)
            + "  model's GFLOP/s = fraction of SGEMM's".padding(toLength: rateWidth, withPad: " ", startingAt: 0) + right("peak memory", 12) + "\n"
    }()

    static func row(_ m: WorkloadTiming) -> String {
        let digits = m.median < 100 ? 2 : 0
        func number(_ value: Double, _ width: Int) -> String { String(format: "%\(width).\(digits)f", value) }
        let peer = m.bestPeer.map { number($0, 10) + String(format: " %5.2fx", m.median / $0) } ?? String(repeating: " ", count: 17)
        let rate = m.gemmCeilingGflops.map { String(format: "  %6.1f GFLOP/s = %5.1f%% of SGEMM's %5.1f", m.gflops, 100 * m.gflops / $0, $0) }
            ?? String(repeating: " ", count: rateWidth)
        return "\(m.id.padding(toLength: 14, withPad: " ", startingAt: 0)) \(number(m.median, 10)) (\(number(m.min, 8))..\(number(m.max, 8))) \(peer)"
            + rate + String(format: "  %6.1f MiB\n", m.peakMemoryMiB)
    }

    struct Report: Codable {
        var blasKernel: String
        var threads: Int
        var workloads: [WorkloadTiming]
        enum CodingKeys: String, CodingKey {
            case blasKernel = "blas_kernel", threads, workloads
        }
    }
}
