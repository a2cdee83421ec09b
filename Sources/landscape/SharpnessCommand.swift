import Analysis
import ArgumentParser
import Foundation
import LandscapeCore
import Networks
import Training

/// `landscape sharpness`: how much the loss rises near a checkpoint, by several definitions.
struct SharpnessCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sharpness",
        abstract: "Worst-case, adaptive, average-case, m- and Keskar sharpness of a checkpoint, into JSON.",
        discussion: """
            worst-case: max of L(w + d) - L(w) over ||d||_p <= rho, by projected gradient ascent (APGD steps). \
            adaptive: the same over ||d / |w| ||_p <= rho (Kwon et al. 2021; Andriushchenko et al. 2023). \
            average: the mean of L(w + d) - L(w) over d ~ N(0, sigma^2 I), with its standard error; \
            average-adaptive: d = sigma |w| z. m-sharpness: the worst case per sub-batch of m samples, averaged. \
            keskar: 100 (max L - L) / (1 + L) over the box |d_i| <= eps (|w_i| + 1) (Keskar et al. 2017).
            """)

    static let kinds = ["worst-case", "adaptive", "average", "average-adaptive", "keskar", "m-sharpness"]

    @Argument(help: "The checkpoint (safetensors).")
    var checkpoint: String
    @OptionGroup var checkpointOptions: CheckpointOptions
    @Option(help: "Measures, comma-separated: \(kinds.joined(separator: ", ")).")
    var kind = "worst-case,adaptive,average,keskar"
    @Option(help: "Radius of the worst-case ball.")
    var rho = 0.05
    @Option(help: "Radius of the adaptive ball.")
    var adaptiveRho = 0.5
    @Option(help: "Norm of the balls: l2 or linf.")
    var norm = "l2"
    @Option(help: "Standard deviation of the average-case noise.")
    var sigma = 0.01
    @Option(help: "Relative standard deviation of the adaptive average-case noise.")
    var adaptiveSigma = 0.1
    @Option(help: "Noise samples of the average case.")
    var noiseSamples = 100
    @Option(help: "Box half-width of Keskar's sharpness.")
    var epsilon = 1e-3
    @Option(help: "Sub-batch size of m-sharpness.")
    var m = 128
    @Option(help: "Ascent steps per start.")
    var steps = 20
    @Option(help: "Random starts besides the one from w.")
    var randomStarts = 0
    @Option(help: "Seed of random starts and noise.")
    var seed: UInt64 = 0
    @OptionGroup var evaluation: EvaluationOptions
    @Option(help: ArgumentHelp("Output JSON file.", valueName: "file"))
    var out = "sharpness.json"

    func validate() throws {
        for name in kind.split(separator: ",") where !Self.kinds.contains(String(name)) {
            throw ValidationError("--kind: unknown measure '\(name)'; expected \(Self.kinds.joined(separator: ", "))")
        }
        guard PerturbationNorm(rawValue: norm) != nil else { throw ValidationError("--norm must be l2 or linf, got \(norm)") }
        for (name, value) in [("--rho", rho), ("--adaptive-rho", adaptiveRho), ("--sigma", sigma), ("--adaptive-sigma", adaptiveSigma), ("--epsilon", epsilon)] {
            guard value >= 0, value.isFinite else { throw ValidationError("\(name) must not be negative, got \(value)") }
        }
        guard steps >= 1, randomStarts >= 0, noiseSamples >= 2, m >= 2 else {
            throw ValidationError("--steps must be at least 1, --random-starts at least 0, --noise-samples and --m at least 2")
        }
        guard evaluation.split != "both" else { throw ValidationError("--split: sharpness uses one split, train or test") }
    }

    func run() throws {
        let network = try checkpointOptions.load(checkpoint)
        let data = try evaluation.sets()[0].data
        let objective = NetworkObjective(network: network, data: data, mode: evaluation.mode)
        let point = objective.origin
        let origin = objective.evaluation(at: point)
        var report = SharpnessReport(checkpoint: checkpoint, checkpointSHA256: try FileDigest.sha256(of: URL(fileURLWithPath: checkpoint)),
                                     evaluation: evaluation.summary, loss: origin.loss, accuracy: origin.accuracy)
        say(String(format: "%@: loss %.4f, accuracy %.2f%% on %@", checkpoint, origin.loss, origin.accuracy, evaluation.summary))
        let norm = PerturbationNorm(rawValue: self.norm)!
        func timed<R>(_ name: String, _ work: () throws -> R) rethrows -> R {
            let (result, seconds) = try WallClock.time(work)
            report.seconds[name] = seconds
            return result
        }
        for name in kind.split(separator: ",").map(String.init) {
            switch name {
            case "worst-case", "adaptive":
                let adaptive = name == "adaptive"
                let settings = WorstCaseSharpnessSettings(radius: adaptive ? adaptiveRho : rho, norm: norm, adaptive: adaptive,
                                                          steps: steps, randomStarts: randomStarts, seed: seed)
                let result = timed(name) { Sharpness.worstCase(of: objective, at: point, settings: settings) }
                if adaptive { report.adaptive = result } else { report.worstCase = result }
                say(String(format: "%@ (%@, rho %g): %.5f (loss %.4f -> %.4f), %.1f s", name, self.norm, settings.radius,
                           result.sharpness, result.loss, result.perturbedLoss, report.seconds[name]!))
            case "average", "average-adaptive":
                let adaptive = name == "average-adaptive"
                let settings = AverageSharpnessSettings(sigma: adaptive ? adaptiveSigma : sigma, adaptive: adaptive, samples: noiseSamples, seed: seed)
                let result = timed(name) { Sharpness.average(of: objective, at: point, settings: settings) }
                if adaptive { report.adaptiveAverage = result } else { report.average = result }
                say(String(format: "%@ (sigma %g, %d samples): %.5f +- %.5f, %.1f s", name, settings.sigma, settings.samples,
                           result.sharpness, result.standardError, report.seconds[name]!))
            case "keskar":
                let settings = KeskarSharpnessSettings(epsilon: epsilon, steps: steps, randomStarts: randomStarts, seed: seed)
                let result = timed(name) { Sharpness.keskar(of: objective, at: point, settings: settings) }
                report.keskar = result
                say(String(format: "keskar (eps %g): %.4f, %.1f s", epsilon, result.sharpness, report.seconds[name]!))
            default:
                let chunks = Sharpness.subBatchObjectives(network: network, data: data, m: m, mode: evaluation.mode)
                let settings = WorstCaseSharpnessSettings(radius: rho, norm: norm, steps: steps, randomStarts: randomStarts, seed: seed)
                let result = timed(name) { Sharpness.mSharpness(of: chunks, at: point, settings: settings) }
                report.mSharpness = result
                say(String(format: "m-sharpness (m %d, rho %g, %d sub-batches): %.5f, %.1f s", m, rho, chunks.count,
                           result.sharpness, report.seconds[name]!))
            }
        }
        try writeJSON(report, to: out)
        say("wrote \(out)")
    }
}
