import ArgumentParser

/// The `landscape` command: one subcommand per job; the work itself is in the library targets.
@main
struct Landscape: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sharpness-aware training and loss-landscape analysis.",
        subcommands: [Train.self, Surface.self, Interpolate.self, TrajectoryCommand.self, SharpnessCommand.self, HessianCommand.self, Plot.self, Mesh.self, Report.self, Demo.self, Bench.self])
}

/// The command line as the user would type it again: `landscape` and the arguments, without the
/// path the binary was started from. Recorded in result files and figures.
let commandLine = (["landscape"] + CommandLine.arguments.dropFirst()).joined(separator: " ")
