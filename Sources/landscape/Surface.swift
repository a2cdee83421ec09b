import Analysis
import ArgumentParser
import Foundation
import LandscapeCore
import Networks
import Training

/// `landscape surface`: loss and accuracy along one or two filter-normalized random directions.
struct Surface: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Loss and accuracy on a 1-D or 2-D grid around a checkpoint (Li et al. 2018), into HDF5.",
        discussion: """
            Rerun with the same arguments to finish a stopped run: only cells still -1 are computed. \
            With --directions N > 1 (1-D only) computes N curves along N random directions and prints \
            their mean and spread, so you can see how much one picture depends on its seed.
            """)

    @Argument(help: "The checkpoint (safetensors).")
    var checkpoint: String
    @OptionGroup var checkpointOptions: CheckpointOptions
    @Option(parsing: .unconditional, help: "First axis, min:max:count.")
    var x = "-1:1:51"
    @Option(parsing: .unconditional, help: "Second axis, min:max:count (omit for a 1-D curve).")
    var y: String?
    @Option(help: "Direction normalization: filter, layer, weight, dfilter, dlayer or none.")
    var norm = "filter"
    @Option(help: "biasbn: 1-D tensors (biases, batch-norm) get a zero direction; none: they follow the reference code.")
    var ignore = "biasbn"
    @Flag(help: "Give batch-norm running statistics a direction too.")
    var state = false
    @Flag(help: "Make the second direction orthogonal to the first.")
    var orthogonal = false
    @Option(help: "Seed of the random directions (the second uses seed + 1).")
    var directionSeed: UInt64 = 0
    @Option(help: ArgumentHelp("Direction files (safetensors with the checkpoint's names) to use instead of random ones, comma-separated.", valueName: "files"))
    var directionFiles: String?
    @Option(help: "Number of random directions for 1-D statistics.")
    var directions = 1
    @OptionGroup var evaluation: EvaluationOptions
    @OptionGroup var threadOptions: ThreadOptions
    @Option(help: ArgumentHelp("Output HDF5 file; its directions are saved beside it.", valueName: "file"))
    var out = "surface.h5"

    func validate() throws {
        guard DirectionNormalization(rawValue: norm) != nil else {
            throw ValidationError("--norm must be one of \(DirectionNormalization.allCases.map(\.rawValue).joined(separator: ", ")), got \(norm)")
        }
        guard ["biasbn", "none"].contains(ignore) else { throw ValidationError("--ignore must be biasbn or none, got \(ignore)") }
        guard directions >= 1 else { throw ValidationError("--directions must be at least 1") }
        guard directions == 1 || y == nil else { throw ValidationError("--directions N > 1 is for 1-D curves; drop --y") }
    }

    func run() throws {
        let network = try checkpointOptions.load(checkpoint)
        let xAxis = try gridAxis("--x", x)
        let yAxis = try y.map { try gridAxis("--y", $0) }
        let sets = try evaluation.sets()
        let files = directionFiles?.split(separator: ",").map(String.init) ?? []
        guard files.isEmpty || files.count == (yAxis == nil ? 1 : 2) else {
            throw ValidationError("--direction-files: expected \(yAxis == nil ? 1 : 2) file(s), got \(files.count)")
        }
        var curves: [[Double]] = []
        for index in 0..<directions {
            let seed = directionSeed + UInt64(2 * index)
            let first = try files.first.map { try Direction.read(URL(fileURLWithPath: $0), for: network) }
                ?? random(network, seed: seed)
            var second = try yAxis.map { _ in
                try files.count == 2 ? Direction.read(URL(fileURLWithPath: files[1]), for: network) : random(network, seed: seed + 1)
            }
            if orthogonal, let current = second { second = current.orthogonalized(to: first) }
            let path = directions == 1 ? out : Self.numbered(out, index)
            if files.isEmpty {
                try save(first, network, seed: seed, path: path, axis: "x")
                if let second { try save(second, network, seed: seed + 1, path: path, axis: "y") }
            }
            let computation = SurfaceComputation(network: network, x: xAxis.values, y: yAxis?.values, directions: (first, second),
                                                 sets: sets, mode: evaluation.mode, threads: threadOptions.threads)
            let attributes = self.attributes(network: network, seed: seed, files: files)
            let file = try computeSurface(computation, into: path, attributes: attributes)
            let losses = try file.values("\(sets[0].name)_loss")
            curves.append(losses)
            file.close()
            say(String(format: "%@: %@ loss %.4f at the origin, min %.4f, max %.4f over %d cells",
                       path, sets[0].name, originValue(losses, xAxis, yAxis), losses.min() ?? 0, losses.max() ?? 0, losses.count))
        }
        if directions > 1 { try summarize(curves, xAxis) }
    }

    private func random(_ network: Network<Float>, seed: UInt64) -> Direction {
        Direction.random(like: network, seed: seed, normalization: DirectionNormalization(rawValue: norm)!,
                         ignoreBiasAndNorm: ignore == "biasbn", includeState: state)
    }

    private func save(_ direction: Direction, _ network: Network<Float>, seed: UInt64, path: String, axis: String) throws {
        let url = URL(fileURLWithPath: path).deletingPathExtension().appendingPathExtension("direction-\(axis).safetensors")
        try direction.write(for: network, metadata: ["seed": "\(seed)", "normalization": norm, "ignore": ignore, "state": "\(state)"], to: url)
    }

    private func attributes(network: Network<Float>, seed: UInt64, files: [String]) -> [String: String] {
        [
            "checkpoint": checkpoint, "checkpoint_sha256": (try? FileDigest.sha256(of: URL(fileURLWithPath: checkpoint))) ?? "",
            "directions": files.isEmpty ? "random, seeds \(seed) and \(seed + 1)" : files.joined(separator: ","),
            "normalization": norm, "ignore": ignore, "state_direction": "\(state)", "orthogonal": "\(orthogonal)",
            "evaluation": evaluation.summary, "toolkit": "landscape", "command": commandLine,
        ]
    }

    /// The loss at the grid point nearest (0, 0).
    private func originValue(_ values: [Double], _ xAxis: GridAxis, _ yAxis: GridAxis?) -> Double {
        func nearest(_ axis: GridAxis) -> Int { axis.values.enumerated().min { abs($0.element) < abs($1.element) }!.offset }
        return values[(yAxis.map(nearest) ?? 0) * xAxis.count + nearest(xAxis)]
    }

    static func numbered(_ path: String, _ index: Int) -> String {
        let url = URL(fileURLWithPath: path)
        return url.deletingPathExtension().path + "-\(index)." + (url.pathExtension.isEmpty ? "h5" : url.pathExtension)
    }

    /// Mean and standard deviation over the curves at each x, printed and written as JSON.
    private func summarize(_ curves: [[Double]], _ axis: GridAxis) throws {
        let n = Double(curves.count)
        let mean = (0..<axis.count).map { i in curves.reduce(0) { $0 + $1[i] } / n }
        let deviation = (0..<axis.count).map { i in (curves.reduce(0) { $0 + ($1[i] - mean[i]) * ($1[i] - mean[i]) } / (n - 1)).squareRoot() }
        let summary: [String: Any] = ["x": axis.values, "mean": mean, "std": deviation, "directions": curves.count, "curves": curves]
        let url = URL(fileURLWithPath: out).deletingPathExtension().appendingPathExtension("statistics.json")
        try JSONSerialization.data(withJSONObject: summary, options: [.prettyPrinted, .sortedKeys]).write(to: url, options: .atomic)
        let worst = deviation.enumerated().max { $0.element < $1.element }!
        say(String(format: "%d directions: largest spread std %.4f at x = %.3f (mean %.4f); wrote %@", curves.count, worst.element,
                   axis.values[worst.offset], mean[worst.offset], url.path))
    }
}
