import Analysis
import ArgumentParser
import Foundation
import LandscapeCore
import Networks

/// `landscape interpolate`: the loss along the straight line between two checkpoints.
struct Interpolate: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Loss and accuracy on w(a) = (1 - a) w1 + a w2 (Goodfellow et al. 2015), batch-norm statistics interpolated too, into HDF5.")

    @Argument(help: "The checkpoint at a = 0.")
    var first: String
    @Argument(help: "The checkpoint at a = 1.")
    var second: String
    @OptionGroup var checkpointOptions: CheckpointOptions
    @Option(parsing: .unconditional, help: "The coefficients a, min:max:count.")
    var alpha = "-0.5:1.5:41"
    @OptionGroup var evaluation: EvaluationOptions
    @OptionGroup var threadOptions: ThreadOptions
    @Option(help: ArgumentHelp("Output HDF5 file.", valueName: "file"))
    var out = "interpolation.h5"

    func run() throws {
        let start = try checkpointOptions.load(first), end = try checkpointOptions.load(second)
        guard start.parameters.layout == end.parameters.layout, start.state.layout == end.state.layout else {
            throw ValidationError("\(first) and \(second) are different models (\(start.name), \(end.name))")
        }
        let axis = try gridAxis("--alpha", alpha)
        let sets = try evaluation.sets()
        let computation = SurfaceComputation(network: start, x: axis.values, y: nil, directions: (Direction.between(start, end), nil),
                                             sets: sets, mode: evaluation.mode, threads: threadOptions.threads)
        let attributes = [
            "checkpoint": first, "checkpoint_sha256": try FileDigest.sha256(of: URL(fileURLWithPath: first)),
            "checkpoint_end": second, "checkpoint_end_sha256": try FileDigest.sha256(of: URL(fileURLWithPath: second)),
            "directions": "interpolation w1 + a (w2 - w1), running statistics interpolated", "normalization": "none",
            "evaluation": evaluation.summary, "toolkit": "landscape", "command": commandLine,
        ]
        let file = try computeSurface(computation, into: out, attributes: attributes, unit: "points")
        for (name, _) in sets {
            let losses = try file.values("\(name)_loss")
            let peak = losses.enumerated().filter { axis.values[$0.offset] >= 0 && axis.values[$0.offset] <= 1 }.max { $0.element < $1.element }!
            say(String(format: "%@ loss: %.4f at a = 0, %.4f at a = 1, highest between them %.4f at a = %.3f", name,
                       losses[axis.values.firstIndex { $0 >= 0 } ?? 0], losses[axis.values.lastIndex { $0 <= 1 } ?? 0],
                       peak.element, axis.values[peak.offset]))
        }
        file.close()
        say("wrote \(out)")
    }
}
