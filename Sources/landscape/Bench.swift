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
        let ceiling = Benchmark.gemmCeiling()
        FileHandle.standardError.write(Data(String(format: "SGEMM ceiling: %.1f GFLOP/s (OpenBLAS kernels: %@)\n",
                                                   ceiling, BLASKernel.name).utf8))
        var results: [WorkloadTiming] = []
        for workload in selected {
            var measurement = try runChild(workload)
            if measurement.gflops > 0 { measurement.fractionOfGemmCeiling = measurement.gflops / ceiling }
            results.append(measurement)
            FileHandle.standardError.write(Data(Self.row(measurement).utf8))
        }
        let report = Report(gemmCeilingGflops: ceiling, blasKernel: BLASKernel.name,
                            threads: WorkerThreads.processors, workloads: results)
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

    static func row(_ m: WorkloadTiming) -> String {
        let digits = m.median < 100 ? 2 : 0
        func number(_ value: Double, _ width: Int) -> String { String(format: "%\(width).\(digits)f", value) }
        let peer = m.bestPeer.map { number($0, 10) + String(format: " %5.2fx", m.median / $0) } ?? String(repeating: " ", count: 17)
        return "\(m.id.padding(toLength: 14, withPad: " ", startingAt: 0)) \(number(m.median, 10)) (\(number(m.min, 8))..\(number(m.max, 8))) \(peer)"
            + String(format: "  %6.1f GFLOP/s %5.1f%% of SGEMM  %6.1f MiB\n", m.gflops, 100 * (m.fractionOfGemmCeiling ?? 0), m.peakMemoryMiB)
    }

    struct Report: Codable {
        var gemmCeilingGflops: Double
        var blasKernel: String
        var threads: Int
        var workloads: [WorkloadTiming]
        enum CodingKeys: String, CodingKey {
            case gemmCeilingGflops = "gemm_ceiling_gflops", blasKernel = "blas_kernel", threads, workloads
        }
    }
}
