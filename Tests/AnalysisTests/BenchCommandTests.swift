import Foundation
import Networks
import Testing
import Training

/// `landscape bench` as a user runs it: JSON on standard output and a table on standard error, each
/// workload's rate set against the SGEMM rate measured just before it; and its refusals. The rates
/// themselves are not checked (tests run side by side); the bench is the place for them.
@Suite(.enabled(if: Tool.executable != nil))
struct BenchCommandTests {
    struct Report: Decodable {
        var blas_kernel: String
        var threads: Int
        var workloads: [Timing]
    }

    struct Timing: Decodable {
        var id: String
        var unit: String
        var median, min, max, gflops, peak_memory_mib: Double
        var repetitions: [Double]
        var gemm_ceiling_gflops, fraction_of_gemm_ceiling, best_peer: Double?
    }

    /// Where the JSON starts in what the bench printed: after the table (standard error, written
    /// first; its lines hold no brace), at the first brace.
    static func jsonStart(_ output: String) throws -> String.Index {
        try #require(output.firstIndex(of: "{"), "\(output)")
    }

    @Test("two workloads, short repetitions: JSON and table", .enabled(if: FashionMNIST.isInstalled, "the bench reads Fashion-MNIST"))
    func reportsEachWorkloadAskedFor() throws {
        let result = try Tool.run(["bench", "mlp.sgd", "mlp.eval", "--repetitions", "3", "--seconds", "0.05"])
        #expect(result.status == 0, "\(result.output)")
        let start = try Self.jsonStart(result.output)
        let table = result.output[..<start]
        let report = try JSONDecoder().decode(Report.self, from: Data(result.output[start...].utf8))
        #expect(report.threads >= 1 && !report.blas_kernel.isEmpty)
        #expect(report.workloads.map(\.id) == ["mlp.sgd", "mlp.eval"])

        let forward = Double(try Architecture(name: "mlp").forwardFLOPs)
        for (timing, (flops, peer)) in zip(report.workloads, [(3 * forward, 99_009.0), (forward, 301_487.0)]) {
            #expect(timing.unit == "samples/s")
            #expect(timing.repetitions.count == 3)
            #expect(timing.repetitions.sorted()[1] == timing.median)
            #expect(timing.min == timing.repetitions.min() && timing.max == timing.repetitions.max())
            #expect(timing.peak_memory_mib > 1)
            #expect(timing.best_peer == peer)
            #expect(abs(timing.gflops - timing.median * flops / 1e9) <= 1e-9 * timing.gflops)
            let ceiling = try #require(timing.gemm_ceiling_gflops)
            #expect(ceiling > 1)
            #expect(timing.fraction_of_gemm_ceiling == timing.gflops / ceiling)
            let line = try #require(table.split(separator: "\n").first { $0.hasPrefix(timing.id + " ") })
            #expect(line.contains(String(format: "%.1f%% of SGEMM's %5.1f", 100 * timing.gflops / ceiling, ceiling)), "\(line)")
            #expect(line.hasSuffix(String(format: "%.1f MiB", timing.peak_memory_mib)), "\(line)")
        }
    }

    /// `ru_maxrss` keeps the peak of the program a process ran before `exec`: read that way, a
    /// workload's peak memory was the bench's own (its SGEMM buffers). Here the workload is started
    /// from a shell that first holds 200 MB.
    @Test("peak memory is the workload's own, not its parent's", .enabled(if: FashionMNIST.isInstalled, "the bench reads Fashion-MNIST"))
    func peakMemoryIsTheWorkloads() throws {
        let bigShell = ["/bin/bash", "-c", #"big=$(printf '%200000000s' x); exec "$0" "$@""#]
        let result = try Tool.run(["bench", "--in-process", "mlp.eval", "--repetitions", "1", "--seconds", "0.05"], through: bigShell)
        #expect(result.status == 0, "\(result.output)")
        let start = try Self.jsonStart(result.output)
        let timing = try JSONDecoder().decode(Timing.self, from: Data(result.output[start...].utf8))
        #expect(timing.peak_memory_mib > 10 && timing.peak_memory_mib < 150, "\(timing.peak_memory_mib) MiB")
    }

    @Test("unknown workloads and repetitions below one are refused in one line",
          arguments: [(["bench", "mlp.fast"], "unknown workload 'mlp.fast'"),
                      (["bench", "--repetitions", "0"], "--repetitions must be at least 1")])
    func refusesBadArguments(_ arguments: [String], _ message: String) throws {
        let result = try Tool.run(arguments)
        #expect(result.status != 0)
        #expect(result.output.contains(message), "\(result.output)")
        #expect(result.output.split(separator: "\n").filter { $0.hasPrefix("Error:") }.count == 1, "\(result.output)")
    }
}
