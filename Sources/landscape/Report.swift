import Analysis
import ArgumentParser
import Foundation
import LandscapeCore
import Networks
import Training

/// `landscape report`: one row of figures per checkpoint, as Markdown, CSV, LaTeX and JSON.
struct Report: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Tabulate checkpoints: loss and accuracy, worst-case, adaptive, average and Keskar sharpness, lambda_max and the Hessian trace, with their times.",
        discussion: """
            Each measure is computed by `landscape sharpness` or `landscape hessian` into a results file in \
            --results (default: CHECKPOINT-STEM.results/ beside each checkpoint). A results file that exists for \
            the same checkpoint (by SHA-256), evaluation set and settings is read instead of recomputed, so a \
            report can be re-run and extended cheaply. Writes OUT.md, OUT.csv, OUT.tex (booktabs) and OUT.json.
            """)

    @Argument(help: "Checkpoints (safetensors), one row each.")
    var checkpoints: [String]
    @OptionGroup var checkpointOptions: CheckpointOptions
    @Option(name: .customLong("name"), help: "A row's name (repeat for each checkpoint; default: the run directory's name).")
    var names: [String] = []
    @Option(help: "Radii of the worst-case L2 ball, comma-separated.")
    var rho = "0.05"
    @Option(help: "Radii of the adaptive worst-case ball, comma-separated.")
    var adaptiveRho = "0.5"
    @Option(help: "Standard deviation of the average-case noise.")
    var sigma = 0.01
    @Option(help: "Noise samples of the average case.")
    var noiseSamples = 100
    @Option(help: "Box half-width of Keskar's sharpness.")
    var epsilon = 1e-3
    @Option(help: "Ascent steps of the worst-case and Keskar measures.")
    var steps = 20
    @Option(help: "Probes of the Hutchinson trace.")
    var traceSamples = 30
    @Option(help: "Lanczos steps of the Hessian eigenvalue density (0: none).")
    var densityIterations = 0
    @Flag(help: "Leave out lambda_max and the trace (the slowest columns).")
    var noHessian = false
    @OptionGroup var evaluation: EvaluationOptions
    @Option(help: ArgumentHelp("Directory of the results files (default: beside each checkpoint).", valueName: "directory"))
    var results: String?
    @Option(help: ArgumentHelp("Output prefix: PREFIX.md, .csv, .tex and .json.", valueName: "prefix"))
    var out = "report"

    var radii: [Double] { Self.positiveNumbers(rho) ?? [] }
    var adaptiveRadii: [Double] { Self.positiveNumbers(adaptiveRho) ?? [] }

    /// A comma-separated list of positive numbers, or nil when it is not one.
    static func positiveNumbers(_ list: String) -> [Double]? {
        let parts = list.split(separator: ",", omittingEmptySubsequences: false)
        let numbers = parts.compactMap { Double($0) }.filter { $0 > 0 && $0.isFinite }
        return !parts.isEmpty && numbers.count == parts.count ? numbers : nil
    }

    func validate() throws {
        guard !checkpoints.isEmpty else { throw ValidationError("give at least one checkpoint") }
        guard names.isEmpty || names.count == checkpoints.count else { throw ValidationError("give one --name per checkpoint (\(checkpoints.count))") }
        for (option, list) in [("--rho", rho), ("--adaptive-rho", adaptiveRho)] where Self.positiveNumbers(list) == nil {
            throw ValidationError("\(option) must be positive numbers separated by commas, got '\(list)'")
        }
        guard evaluation.split != "both" else { throw ValidationError("--split: sharpness uses one split, train or test") }
        guard steps >= 1, noiseSamples >= 2, traceSamples >= 2, densityIterations >= 0 else {
            throw ValidationError("--steps must be at least 1, --noise-samples and --trace-samples at least 2")
        }
    }

    func run() throws {
        let data = try DataSource(evaluation.data)
        var rows: [ReportRow] = []
        for (index, checkpoint) in checkpoints.enumerated() {
            guard FileManager.default.fileExists(atPath: checkpoint) else { throw FileError(file: checkpoint, problem: "no such checkpoint") }
            let name = index < names.count ? names[index] : URL(fileURLWithPath: checkpoint).deletingLastPathComponent().lastPathComponent
            say("== \(name): \(checkpoint)")
            rows.append(try row(name: name, checkpoint: checkpoint, data: data))
        }
        let table = ReportTable(rows: rows, columns: columns, settings: settings)
        for (format, text) in [("md", table.markdown), ("csv", table.csv), ("tex", table.latex)] {
            try Data(text.utf8).write(to: URL(fileURLWithPath: "\(out).\(format)"), options: .atomic)
        }
        try writeJSON(table, to: "\(out).json")
        say("wrote \(out).md, \(out).csv, \(out).tex and \(out).json")
    }

    /// The measures in column order.
    var columns: [ReportTable.Column] {
        var columns: [ReportTable.Column] = [
            .init(key: "train_loss", header: "train loss", latex: "train loss", digits: 4),
            .init(key: "train_accuracy", header: "train acc. (%)", latex: "train acc.\\ (\\%)", digits: 2),
            .init(key: "test_loss", header: "test loss", latex: "test loss", digits: 4),
            .init(key: "test_accuracy", header: "test acc. (%)", latex: "test acc.\\ (\\%)", digits: 2),
        ]
        for radius in radii {
            columns.append(.init(key: "worst_case_rho\(radius)", header: "worst-case L2 (ρ \(radius))", latex: "worst-case $\\rho{=}\(radius)$", digits: 4))
        }
        for radius in adaptiveRadii {
            columns.append(.init(key: "adaptive_rho\(radius)", header: "adaptive (ρ \(radius))", latex: "adaptive $\\rho{=}\(radius)$", digits: 4))
        }
        columns += [
            .init(key: "average_sigma\(sigma)", header: "average (σ \(sigma))", latex: "average $\\sigma{=}\(sigma)$", digits: 5),
            .init(key: "keskar_epsilon\(epsilon)", header: "Keskar (ε \(epsilon))", latex: "Keskar $\\epsilon{=}\(epsilon)$", digits: 2),
        ]
        if !noHessian {
            columns += [
                .init(key: "lambda_max", header: "λ_max", latex: "$\\lambda_{\\max}$", digits: 3),
                .init(key: "hessian_trace", header: "trace", latex: "$\\operatorname{tr} H$", digits: 1),
            ]
        }
        return columns
    }

    var settings: [String: String] {
        [
            "evaluation": evaluation.summary, "loss_and_accuracy": "\(evaluation.data), whole train and test splits, batch-norm eval",
            "worst_case": "L2 ball, \(steps) ascent steps", "adaptive": "|w|-scaled L2 ball (eta 0.01), \(steps) steps",
            "average": "E[L(w + d)] - L(w), d ~ N(0, sigma^2 I), \(noiseSamples) samples",
            "keskar": "100 (max L - L) / (1 + L) over the box |d_i| <= eps (|w_i| + 1), \(steps) steps",
            "hessian": noHessian ? "not computed" : "Lanczos lambda_max; Hutchinson trace, \(traceSamples) Rademacher probes",
        ]
    }

    // MARK: One checkpoint

    private func row(name: String, checkpoint: String, data: DataSource) throws -> ReportRow {
        let (network, metadata) = try Checkpoint.read(URL(fileURLWithPath: checkpoint), architecture: try checkpointOptions.model.map { try Architecture(name: $0) })
        let sha = try FileDigest.sha256(of: URL(fileURLWithPath: checkpoint))
        // Beside the checkpoint, and relative when the checkpoint's path is.
        let directory = results ?? (checkpoint.hasSuffix(".safetensors") ? String(checkpoint.dropLast(".safetensors".count)) : checkpoint) + ".results"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let file = { (name: String) in "\(directory)/\(name)" }
        var row = ReportRow(name: name, checkpoint: checkpoint, checkpointSHA256: sha, metadata: metadata, model: network.architecture?.name ?? "unknown")

        // Loss and accuracy on the whole splits.
        let scores = file("evaluation.json")
        var evaluated = try? decode(SplitScores.self, scores)
        if evaluated?.checkpointSHA256 != sha || evaluated?.data != evaluation.data {
            let ((train, test), seconds) = WallClock.time { (network.evaluate(data.train), network.evaluate(data.test)) }
            evaluated = SplitScores(checkpointSHA256: sha, data: evaluation.data, trainLoss: train.loss, trainAccuracy: train.accuracy,
                                    testLoss: test.loss, testAccuracy: test.accuracy, seconds: seconds)
            try writeJSON(evaluated!, to: scores)
        } else {
            say("  reusing \(scores)")
        }
        let scored = evaluated!
        row.set("train_loss", scored.trainLoss, seconds: scored.seconds)
        row.set("train_accuracy", scored.trainAccuracy)
        row.set("test_loss", scored.testLoss)
        row.set("test_accuracy", scored.testAccuracy)

        // Sharpness: one results file per measure and setting.
        func sharpness(_ kind: String, _ options: [String], file path: String, key: String, matches: (SharpnessReport) -> Double?) throws {
            if let report = try? decode(SharpnessReport.self, path), report.checkpointSHA256 == sha, report.evaluation == evaluation.summary,
               let value = matches(report) {
                say("  reusing \(path)")
                row.set(key, value, seconds: report.seconds[kind])
                return
            }
            try SharpnessCommand.parse([checkpoint, "--kind", kind, "--steps", String(steps), "--out", path] + options + passedOn).run()
            let report = try decode(SharpnessReport.self, path)
            guard let value = matches(report) else { throw FileError(file: path, problem: "does not hold the \(kind) measure just computed") }
            row.set(key, value, seconds: report.seconds[kind])
        }
        // The worst case over L2 balls, plain and adaptive, at each radius.
        for (kind, option, list, adaptive) in [("worst-case", "--rho", radii, false), ("adaptive", "--adaptive-rho", adaptiveRadii, true)] {
            for radius in list {
                let name = "\(kind.replacingOccurrences(of: "-", with: "_"))_rho\(radius)"
                try sharpness(kind, [option, String(radius)], file: file("\(kind)-rho\(radius).json"), key: name) { report in
                    (adaptive ? report.adaptive : report.worstCase).flatMap {
                        $0.settings.radius == radius && $0.settings.steps == steps && $0.settings.norm == .l2 ? $0.sharpness : nil
                    }
                }
            }
        }
        try sharpness("average", ["--sigma", String(sigma), "--noise-samples", String(noiseSamples)], file: file("average-sigma\(sigma).json"),
                      key: "average_sigma\(sigma)") {
            $0.average.flatMap { $0.settings.sigma == sigma && $0.settings.samples == noiseSamples ? $0.sharpness : nil }
        }
        try sharpness("keskar", ["--epsilon", String(epsilon)], file: file("keskar-epsilon\(epsilon).json"), key: "keskar_epsilon\(epsilon)") {
            $0.keskar.flatMap { $0.settings.epsilon == epsilon && $0.settings.steps == steps ? $0.sharpness : nil }
        }

        // The Hessian: lambda_max and the trace (and the density when asked) in one file.
        if !noHessian {
            let path = file("hessian-trace\(traceSamples)" + (densityIterations > 0 ? "-density\(densityIterations)" : "") + ".json")
            var report = try? decode(HessianReport.self, path)
            let matches = report.map {
                $0.checkpointSHA256 == sha && $0.evaluation == evaluation.summary && $0.eigenvalues != nil && $0.trace?.settings.maxSamples == traceSamples
                    && (densityIterations == 0 || $0.density?.settings.iterations == densityIterations)
            } ?? false
            if matches {
                say("  reusing \(path)")
            } else {
                try HessianCommand.parse([checkpoint, "--trace", "--trace-samples", String(traceSamples), "--out", path]
                    + (densityIterations > 0 ? ["--density", "--density-iterations", String(densityIterations)] : []) + passedOn).run()
                report = try decode(HessianReport.self, path)
            }
            row.set("lambda_max", report!.eigenvalues!.eigenvalues[0], seconds: report!.seconds["eigenvalues"])
            row.set("hessian_trace", report!.trace!.trace, seconds: report!.seconds["trace"])
            row.hessianFile = path
        }
        return row
    }

    /// The evaluation and checkpoint options, as the analysis commands take them.
    private var passedOn: [String] {
        ["--data", evaluation.data, "--split", evaluation.split, "--samples", String(evaluation.samples), "--sample-seed", String(evaluation.sampleSeed),
         "--batch-norm", evaluation.batchNorm] + (checkpointOptions.model.map { ["--model", $0] } ?? [])
    }
}

/// Loss and accuracy of a checkpoint on the whole train and test splits.
struct SplitScores: Codable {
    var checkpointSHA256: String
    var data: String
    var trainLoss, trainAccuracy, testLoss, testAccuracy: Double
    var seconds: Double

    enum CodingKeys: String, CodingKey {
        case checkpointSHA256 = "checkpoint_sha256", data, trainLoss = "train_loss", trainAccuracy = "train_accuracy"
        case testLoss = "test_loss", testAccuracy = "test_accuracy", seconds
    }
}
