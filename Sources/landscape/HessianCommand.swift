import Analysis
import ArgumentParser
import Foundation
import LandscapeCore
import Networks

/// `landscape hessian`: the curvature of the loss at a checkpoint.
struct HessianCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hessian",
        abstract: "Top Hessian eigenvalues (Lanczos), trace (Hutchinson), per-layer figures and the eigenvalue density, into JSON.",
        discussion: """
            Hessian-vector products are central differences of gradients over the evaluation set. \
            Eigenvalues are the largest algebraic ones, with the Lanczos steps taken and the residual reached.
            """)

    @Argument(help: "The checkpoint (safetensors).")
    var checkpoint: String
    @OptionGroup var checkpointOptions: CheckpointOptions
    @Option(help: "How many of the largest eigenvalues.")
    var top = 1
    @Option(help: "Relative tolerance of the Lanczos stopping rule.")
    var tolerance = 1e-3
    @Option(help: "Most Lanczos steps.")
    var maxIterations = 100
    @Flag(help: "Estimate the trace (Hutchinson, Rademacher probes).")
    var trace = false
    @Option(help: "Most probes for the trace.")
    var traceSamples = 100
    @Flag(help: "The top eigenvalue and trace of every parameter tensor's diagonal block.")
    var perLayer = false
    @Flag(help: "The eigenvalue density by stochastic Lanczos quadrature.")
    var density = false
    @Option(help: "Lanczos steps of the density (each one Hessian-vector product).")
    var densityIterations = 100
    @Option(help: "Seed of the start and probe vectors.")
    var seed: UInt64 = 0
    @OptionGroup var evaluation: EvaluationOptions
    @Option(help: ArgumentHelp("Output JSON file.", valueName: "file"))
    var out = "hessian.json"

    func validate() throws {
        guard top >= 1, maxIterations >= 1, densityIterations >= 1, traceSamples >= 2 else {
            throw ValidationError("--top, --max-iterations and --density-iterations must be at least 1, --trace-samples at least 2")
        }
        guard tolerance > 0, tolerance.isFinite else { throw ValidationError("--tolerance must be positive, got \(tolerance)") }
        guard evaluation.split != "both" else { throw ValidationError("--split: the Hessian uses one split, train or test") }
    }

    func run() throws {
        let network = try checkpointOptions.load(checkpoint)
        let objective = NetworkObjective(network: network, data: try evaluation.sets()[0].data, mode: evaluation.mode)
        let point = objective.origin
        var report = HessianReport(checkpoint: checkpoint, checkpointSHA256: try FileDigest.sha256(of: URL(fileURLWithPath: checkpoint)),
                                   evaluation: evaluation.summary, loss: objective.value(at: point))
        func timed<R>(_ name: String, _ work: () -> R) -> R {
            let (result, seconds) = WallClock.time(work)
            report.seconds[name] = seconds
            return result
        }
        let eigenvalueSettings = HessianEigenvalueSettings(count: top, maxIterations: maxIterations, tolerance: tolerance, seed: seed)
        let traceSettings = HessianTraceSettings(maxSamples: traceSamples, minSamples: min(10, traceSamples), seed: seed)
        let eigenvalues = timed("eigenvalues") { Hessian.topEigenvalues(of: objective, at: point, settings: eigenvalueSettings) }
        report.eigenvalues = eigenvalues
        say(String(format: "lambda_max %.4f%@ after %d Lanczos steps (residual %.2e, %@), %.1f s", eigenvalues.eigenvalues[0],
                   eigenvalues.eigenvalues.count > 1 ? "; top \(eigenvalues.eigenvalues.map { String(format: "%.4f", $0) }.joined(separator: ", "))" : "",
                   eigenvalues.iterations, eigenvalues.residualEstimates[0], eigenvalues.converged ? "converged" : "not converged",
                   report.seconds["eigenvalues"]!))
        if trace {
            let result = timed("trace") { Hessian.trace(of: objective, at: point, settings: traceSettings) }
            report.trace = result
            say(String(format: "trace %.3f +- %.3f from %d probes, %.1f s", result.trace, result.standardError, result.samples.count, report.seconds["trace"]!))
        }
        if perLayer {
            var blockEigenvalues = eigenvalueSettings
            blockEigenvalues.count = 1
            let result = timed("per_layer") { Hessian.blockSpectra(of: objective, at: point, eigenvalues: blockEigenvalues, trace: traceSettings) }
            report.blocks = result
            for block in result.blocks {
                say(String(format: "  %@: lambda_max %.4f, trace %.3f", block.name, block.eigenvalues.eigenvalues[0], block.trace.trace))
            }
        }
        if density {
            let result = timed("density") { Hessian.density(of: objective, at: point, settings: SpectralDensitySettings(iterations: densityIterations, seed: seed)) }
            report.density = result
            say(String(format: "density: %d runs of stochastic Lanczos quadrature, %.1f s", result.settings.runs, report.seconds["density"]!))
        }
        if objective.unsettledProducts > 0 {
            say("warning: \(objective.unsettledProducts) Hessian-vector products did not settle at any step (a kink of ReLU or max pooling at the weights); the results may be off")
        }
        try writeJSON(report, to: out)
        say("wrote \(out)")
    }
}
