import ArgumentParser

/// The `landscape` command: one subcommand per job; the work itself is in the library targets.
@main
struct Landscape: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Sharpness-aware training and loss-landscape analysis.",
        subcommands: [Train.self, Surface.self, Interpolate.self, TrajectoryCommand.self, SharpnessCommand.self, HessianCommand.self, Plot.self, Mesh.self, Report.self, Demo.self, Bench.self])
}
