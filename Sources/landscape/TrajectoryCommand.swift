import Analysis
import ArgumentParser
import Foundation
import LandscapeCore
import Networks

/// `landscape trajectory`: a training run's path in the plane of its two principal directions.
struct TrajectoryCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trajectory",
        abstract: "Project a run's per-epoch checkpoints onto their two principal directions (PCA) and compute the surface in that plane.")

    @Argument(help: "A run directory (epoch-NNN.safetensors and final.safetensors).")
    var runDirectory: String
    @OptionGroup var checkpointOptions: CheckpointOptions
    @Option(help: "biasbn: leave 1-D tensors out of the PCA, as the reference does; none: keep them.")
    var ignore = "biasbn"
    @Option(help: "Grid points per axis of the surface in the plane (0: no surface).")
    var points = 21
    @Option(help: "Margin around the path, as a fraction of its extent.")
    var margin = 0.3
    @OptionGroup var evaluation: EvaluationOptions
    @OptionGroup var threadOptions: ThreadOptions
    @Option(help: ArgumentHelp("Output prefix: PREFIX.json, PREFIX.h5 and the two direction files.", valueName: "prefix"))
    var out = "trajectory"

    func run() throws {
        let directory = URL(fileURLWithPath: runDirectory)
        let files = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasPrefix("epoch-") && $0.hasSuffix(".safetensors") }.sorted()
        guard files.count >= 2, FileManager.default.fileExists(atPath: directory.appendingPathComponent("final.safetensors").path) else {
            throw ValidationError("\(runDirectory): a trajectory needs at least two epoch-NNN.safetensors and final.safetensors")
        }
        let names = files.map { directory.appendingPathComponent($0).path } + [directory.appendingPathComponent("final.safetensors").path]
        let networks = try names.map { try checkpointOptions.load($0) }
        let (trajectory, first, second) = try Trajectory.compute(networks, names: names, ignoreBiasAndNorm: ignore == "biasbn")
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        try encoder.encode(trajectory).write(to: URL(fileURLWithPath: out + ".json"), options: .atomic)
        let final = networks.last!
        try first.write(for: final, metadata: ["source": "PCA of \(runDirectory)", "component": "1"], to: URL(fileURLWithPath: out + ".direction-x.safetensors"))
        try second.write(for: final, metadata: ["source": "PCA of \(runDirectory)", "component": "2"], to: URL(fileURLWithPath: out + ".direction-y.safetensors"))
        say(String(format: "explained variance: %.1f%% and %.1f%%; path from (%.3f, %.3f) to the final checkpoint at (0, 0); wrote %@.json",
                   100 * trajectory.explainedVarianceRatio[0], 100 * trajectory.explainedVarianceRatio[1],
                   trajectory.x[0], trajectory.y[0], out))
        guard points > 0 else { return }
        func axis(_ values: [Double]) throws -> GridAxis {
            let (low, high) = (values.min()!, values.max()!)
            let pad = max(high - low, 1e-3) * margin
            return try GridAxis(minimum: low - pad, maximum: high + pad, count: points)
        }
        let (xAxis, yAxis) = (try axis(trajectory.x), try axis(trajectory.y))
        let computation = SurfaceComputation(network: final, x: xAxis.values, y: yAxis.values, directions: (first, second),
                                             sets: try evaluation.sets(), mode: evaluation.mode, threads: threadOptions.threads)
        let attributes = [
            "checkpoint": names.last!, "checkpoint_sha256": try FileDigest.sha256(of: URL(fileURLWithPath: names.last!)),
            "directions": "PCA of \(runDirectory) (\(out).direction-x/-y.safetensors)", "normalization": "none", "ignore": ignore,
            "explained_variance_ratio": trajectory.explainedVarianceRatio.map { String($0) }.joined(separator: ","),
            "evaluation": evaluation.summary, "toolkit": "landscape", "command": commandLine,
        ]
        let file = try computeSurface(computation, into: out + ".h5", attributes: attributes)
        file.close()
        say("wrote \(out).h5")
    }
}
