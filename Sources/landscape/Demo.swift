import Analysis
import ArgumentParser
import Foundation
import LandscapeCore
import Rendering

/// `landscape demo`: from nothing to the SGD-versus-SAM story in `output/`.
struct Demo: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Train the cnn on Fashion-MNIST with SGD and with SAM, analyse both minima, render every figure and write output/report.md.",
        discussion: """
            Runs the same subcommands a user would (each is printed before it runs): train twice from one seed, \
            then report (loss, accuracy, sharpness, Hessian), 1-D and 2-D filter-normalized surfaces, the \
            interpolation between the two solutions, both trajectories, and the figures. Work files go to \
            WORK/PRESET/; a second run reuses every finished step. Presets: default (about 2 minutes on 2 cores) \
            and full (about 10 minutes: whole training set, more epochs, finer grids, more samples); smoke is a \
            seconds-long check of the pipeline for tests.
            """)

    @Option(help: "default, full or smoke.")
    var preset: DemoPreset.Name = .default
    @Option(help: ArgumentHelp("Where runs and results go (under WORK/PRESET/).", valueName: "directory"))
    var work = "runs/demo"
    @Option(help: ArgumentHelp("Where the figures and report.md go.", valueName: "directory"))
    var output = "output"
    @Option(help: ArgumentHelp("fashion-mnist or a directory of MNIST-format files.", valueName: "source"))
    var data = "fashion-mnist"
    @Option(help: "Seed of both trainings and of the directions.")
    var seed: UInt64 = 1

    func run() throws {
        let settings = DemoPreset.named(preset)
        // Kept relative, as the user gave it, so the report and the figures' metadata name no absolute paths.
        let directory = "\(work)/\(preset.rawValue)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        try FileManager.default.createDirectory(atPath: output, withIntermediateDirectories: true)
        var steps = DemoSteps(total: 9)
        let runs = [DemoRun(name: "SGD", key: "sgd", method: ["--method", "none"], directory: directory),
                    DemoRun(name: "SAM", key: "sam", method: ["--method", "sam", "--rho", "0.05"], directory: directory)]
        let evaluation = ["--data", data, "--samples", String(settings.samples)]

        for run in runs {
            let resume = FileManager.default.fileExists(atPath: run.file("run.json")) ? ["--resume"] : []
            try steps.run("train the cnn with \(run.name)", Train.self, [
                "--model", "cnn", "--data", data, "--epochs", String(settings.epochs), "--batch-size", "128", "--lr", "0.05",
                "--momentum", "0.9", "--weight-decay", "5e-4", "--seed", String(seed), "--out", run.path,
            ] + (settings.subset.map { ["--subset", "random:\($0)"] } ?? []) + run.method + resume)
        }
        let finals = runs.map { $0.file("final.safetensors") }
        try steps.run("report: loss, accuracy, sharpness and Hessian of both", Report.self, finals + [
            "--name", "SGD", "--name", "SAM", "--rho", settings.rho, "--steps", String(settings.steps), "--noise-samples", String(settings.noiseSamples),
            "--trace-samples", String(settings.traceSamples), "--density-iterations", String(settings.densityIterations), "--out", "\(directory)/report",
        ] + evaluation)
        try steps.each("1-D surfaces along a filter-normalized direction", runs) { run in
            [run.file("final.safetensors"), "--x", settings.line, "--split", "both", "--direction-seed", String(seed), "--out", run.file("surface-1d.h5")] + evaluation
        }
        try steps.each("2-D surfaces in the plane of two filter-normalized directions", runs) { run in
            [run.file("final.safetensors"), "--x", settings.grid, "--y", settings.grid, "--direction-seed", String(seed), "--out", run.file("surface-2d.h5")] + evaluation
        }
        try steps.run("interpolation from the SGD to the SAM solution", Interpolate.self,
                      finals + ["--alpha", settings.alpha, "--split", "both", "--out", "\(directory)/interpolation.h5"] + evaluation)
        for run in runs {
            try steps.run("\(run.name) trajectory in the plane of its principal directions", TrajectoryCommand.self,
                          [run.path, "--points", String(settings.trajectoryPoints), "--out", run.file("trajectory")] + evaluation)
        }
        try steps.step("figures into \(output)/") { try render(runs: runs, directory: directory) }
        try writeReport(runs: runs, directory: directory, settings: settings, steps: steps)
        say("wrote \(output)/report.md in \(ProgressLine.clock(steps.total))")
    }

    private func render(runs: [DemoRun], directory: String) throws {
        let table = try decode(ReportTableFile.self, "\(directory)/report.json")
        // Both 3-D views on one height scale, so their shapes compare.
        let surfaces = try runs.map { try Figures.grid($0.file("surface-2d.h5"), quantity: "train_loss").grid }
        let values = surfaces.flatMap(\.presentValues).filter { $0 > 0 }
        let range = (values.min() ?? 1)...(values.max() ?? 1)
        var style = Figures.ContourStyle()
        style.logScale = true
        // The first worst-case radius of the table (its columns keep the order of --rho).
        let worstKey = table.columns.first { $0.key.hasPrefix("worst_case") }?.key
        let captions = table.rows.map { row in
            let worst = worstKey.flatMap { key in row.values[key].map { (key: key, value: $0) } }
            return [worst.map { String(format: "worst-case sharpness (ρ %@): %.4f", String($0.key.dropFirst("worst_case_rho".count)), $0.value) },
                    row.values["lambda_max"].map { String(format: "λ_max %.2f · trace %.1f", $0, row.values["hessian_trace"] ?? .nan) }].compactMap { $0 }
        }
        let figures: [(String, () throws -> Canvas, [String])] = [
            ("surfaces-2d.png", {
                var figure = try Figures.contours(runs.map { $0.file("surface-2d.h5") }, quantity: "train_loss", titles: runs.map(\.name), captions: captions, style: style)
                figure.xLabel = "filter-normalized direction 1"
                figure.yLabel = "filter-normalized direction 2"
                return figure.render(.png)
            }, runs.map { $0.file("surface-2d.h5") }),
            ("curves-1d.png", {
                var figure = try Figures.curves(runs.map { $0.file("surface-1d.h5") }, quantity: "train_loss", titles: runs.map(\.name), logScale: true)
                figure.xLabel = "step along a filter-normalized direction"
                return figure.render(.png)
            }, runs.map { $0.file("surface-1d.h5") }),
            ("interpolation.png", {
                var figure = try Figures.curves(["\(directory)/interpolation.h5"], quantity: nil, titles: [], logScale: true)
                figure.title = "from the SGD solution (α = 0) to the SAM solution (α = 1)"
                return figure.render(.png)
            }, ["\(directory)/interpolation.h5"]),
            ("hessian-density.png", {
                try Figures.density(table.rows.compactMap(\.hessianFile), labels: runs.map(\.name), title: nil).render(.png)
            }, table.rows.compactMap(\.hessianFile)),
        ] + runs.flatMap { run -> [(String, () throws -> Canvas, [String])] in [
            ("trajectory-\(run.key).png", {
                try Figures.trajectory(run.file("trajectory.json"), quantity: "train_loss", title: "\(run.name) trajectory", style: style).render(.png)
            }, [run.file("trajectory.json")]),
            ("surface-3d-\(run.key).png", {
                var view = SurfaceView(grid: surfaces[runs.firstIndex { $0.key == run.key }!])
                view.range = range
                view.title = "\(run.name): training loss around the minimum"
                view.zLabel = "training loss"
                view.logScale = true
                return view.render(.png)
            }, [run.file("surface-2d.h5")]),
        ] }
        for (name, draw, sources) in figures {
            try Figures.write(try draw(), to: "\(output)/\(name)", sources: sources)
            say("  wrote \(output)/\(name)")
        }
        for (run, grid) in zip(runs, surfaces) {
            try SurfaceMesh(grid: grid, name: "train_loss", logScale: true).write(.vtp, to: URL(fileURLWithPath: run.file("surface-2d.vtp")))
            say("  wrote \(run.file("surface-2d.vtp")) (open it in ParaView)")
        }
    }

    private func writeReport(runs: [DemoRun], directory: String, settings: DemoPreset, steps: DemoSteps) throws {
        for format in ["csv", "tex", "json"] {
            let (from, to) = ("\(directory)/report.\(format)", "\(output)/report.\(format)")
            try? FileManager.default.removeItem(atPath: to)
            try FileManager.default.copyItem(atPath: from, toPath: to)
        }
        let table = try decode(ReportTableFile.self, "\(directory)/report.json")
        let tables = try String(contentsOfFile: "\(directory)/report.md", encoding: .utf8)
        var text = """
            # SGD versus SAM on Fashion-MNIST

            Made by `landscape demo --preset \(preset.rawValue)` (seed \(seed)): the zoo's `cnn` trained \(settings.epochs) epochs \
            \(settings.subset.map { "on a seeded random \($0) of the training images" } ?? "on the whole training set") with SGD \
            (lr 0.05, momentum 0.9, weight decay 5e-4, batch 128) and with SAM (ρ 0.05) wrapping the same SGD, from the same \
            initialisation. Sharpness, Hessian and surfaces use \(settings.samples) seeded training images with batch-norm in eval mode.

            ## What the numbers say


            """
        text += comparison(table).map { "- \($0)" }.joined(separator: "\n") + "\n\n## Table\n\n" + tables
        text += """

            The same table is in [report.csv](report.csv), [report.tex](report.tex) (booktabs) and [report.json](report.json).

            ## Figures

            The 2-D training-loss surfaces around each minimum, on one log colour scale (filter-normalized random \
            directions, Li et al. 2018):

            ![2-D surfaces](surfaces-2d.png)

            Along one filter-normalized direction (loss solid, accuracy dashed):

            ![1-D surfaces](curves-1d.png)

            The loss on the straight line between the two solutions (Goodfellow et al. 2015):

            ![interpolation](interpolation.png)

            Each run's path through its last epochs, in the plane of its two principal directions:

            ![SGD trajectory](trajectory-sgd.png) ![SAM trajectory](trajectory-sam.png)

            The Hessian eigenvalue density by stochastic Lanczos quadrature (Ghorbani et al. 2019):

            ![Hessian density](hessian-density.png)

            The 2-D surfaces in perspective (the meshes are in WORK/\(preset.rawValue)/*/surface-2d.vtp for ParaView):

            ![SGD in 3-D](surface-3d-sgd.png) ![SAM in 3-D](surface-3d-sam.png)

            ## Steps and times

            | step | seconds |
            | --- | ---: |

            """
        text += steps.done.map { "| \($0.name) | \(String(format: "%.1f", $0.seconds)) |" }.joined(separator: "\n")
        text += String(format: "\n| total | %.1f |\n", steps.total)
        try Data(text.utf8).write(to: URL(fileURLWithPath: "\(output)/report.md"), options: .atomic)
    }

    /// One sentence per measure: which minimum it calls flatter, and by how much.
    private func comparison(_ table: ReportTableFile) -> [String] {
        guard table.rows.count == 2 else { return [] }
        let (sgd, sam) = (table.rows[0], table.rows[1])
        var lines: [String] = []
        if let a = sgd.values["test_accuracy"], let b = sam.values["test_accuracy"] {
            lines.append(String(format: "Test accuracy: SGD %.2f%%, SAM %.2f%%.", a, b))
        }
        for column in table.columns where !["train_loss", "train_accuracy", "test_loss", "test_accuracy"].contains(column.key) {
            guard let a = sgd.values[column.key], let b = sam.values[column.key] else { continue }
            let ratio = max(a, b) / max(min(a, b), 1e-300)
            let verdict = ratio < 1.05 ? "about the same" : (b < a ? "SAM's minimum is flatter" : "SGD's minimum is flatter") + String(format: " (ratio %.2f)", ratio)
            lines.append(String(format: "%@: SGD %.4g, SAM %.4g: %@.", column.header, a, b, verdict))
        }
        return lines
    }
}

/// One of the demo's two trainings.
struct DemoRun {
    var name: String
    var key: String
    var method: [String]
    /// The demo's work directory; the run lives in its subdirectory `key`.
    var directory: String

    /// The run directory.
    var path: String { "\(directory)/\(key)" }

    /// A file of the run.
    func file(_ name: String) -> String { "\(path)/\(name)" }
}

/// The sizes of one demo preset.
struct DemoPreset {
    enum Name: String, ExpressibleByArgument, CaseIterable { case `default`, full, smoke }

    /// Training images (a seeded random subset), or nil for all.
    var subset: Int?
    var epochs: Int
    /// Evaluation images of the analyses.
    var samples: Int
    var line: String
    var grid: String
    var alpha: String
    var trajectoryPoints: Int
    var rho: String
    var steps: Int
    var noiseSamples: Int
    var traceSamples: Int
    var densityIterations: Int

    static func named(_ name: Name) -> DemoPreset {
        switch name {
        case .default:
            DemoPreset(subset: 20000, epochs: 4, samples: 500, line: "-1:1:41", grid: "-1:1:21", alpha: "-0.5:1.5:21", trajectoryPoints: 15,
                       rho: "0.05", steps: 10, noiseSamples: 50, traceSamples: 20, densityIterations: 20)
        case .full:
            DemoPreset(subset: nil, epochs: 10, samples: 1000, line: "-1:1:101", grid: "-1:1:41", alpha: "-0.5:1.5:41", trajectoryPoints: 25,
                       rho: "0.05,0.1", steps: 20, noiseSamples: 100, traceSamples: 50, densityIterations: 60)
        case .smoke:
            DemoPreset(subset: 256, epochs: 3, samples: 64, line: "-1:1:5", grid: "-1:1:4", alpha: "0:1:3", trajectoryPoints: 3,
                       rho: "0.05", steps: 2, noiseSamples: 4, traceSamples: 2, densityIterations: 3)
        }
    }
}

/// The demo's steps: numbered progress, the command line each runs, and their times.
struct DemoSteps {
    let count: Int
    private var index = 0
    private(set) var done: [(name: String, seconds: Double)] = []
    var total: Double { done.reduce(0) { $0 + $1.seconds } }

    init(total: Int) { count = total }

    /// Runs `body` as the next step and records its time.
    @discardableResult
    mutating func step(_ name: String, _ body: () throws -> Void) throws -> Double {
        index += 1
        say("[\(index)/\(count)] \(name)")
        let ((), seconds) = try WallClock.time(body)
        done.append((name, seconds))
        return seconds
    }

    /// Runs a subcommand as the next step.
    mutating func run<Command: ParsableCommand>(_ name: String, _ command: Command.Type, _ arguments: [String]) throws {
        try step(name) { try Self.invoke(command, arguments) }
    }

    /// Runs `landscape surface` for each run, as one step.
    mutating func each(_ name: String, _ runs: [DemoRun], _ arguments: (DemoRun) -> [String]) throws {
        try step(name) {
            for run in runs { try Self.invoke(Surface.self, arguments(run)) }
        }
    }

    /// Prints a subcommand as a command line, then runs it in this process.
    private static func invoke<Command: ParsableCommand>(_ command: Command.Type, _ arguments: [String]) throws {
        say("$ landscape \(Command.configuration.commandName ?? String(describing: Command.self).lowercased()) \(arguments.joined(separator: " "))")
        var parsed = try Command.parse(arguments) as Command
        try parsed.run()
    }
}

/// The parts of a report's JSON the demo reads back.
struct ReportTableFile: Decodable {
    struct Column: Decodable { var key: String, header: String }
    var rows: [ReportRow]
    var columns: [Column]
}
