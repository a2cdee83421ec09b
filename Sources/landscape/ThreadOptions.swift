import ArgumentParser
import LandscapeCore

/// `--threads` of the commands that evaluate many points (grid points, interpolation and trajectory
/// steps), each on a worker thread with its own copy of the network.
struct ThreadOptions: ParsableArguments {
    @Option(help: "Worker threads, each evaluating one point at a time; by default one per processor this process may use.")
    var threads = WorkerThreads.processors

    func validate() throws {
        guard threads >= 1 else { throw ValidationError("--threads must be at least 1, got \(threads)") }
    }
}
