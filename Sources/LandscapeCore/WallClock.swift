/// Timing of work in seconds, for progress lines, logs and the benchmark.
public enum WallClock {
    /// The wall time of `work` in seconds, and its result.
    public static func time<R>(_ work: () throws -> R) rethrows -> (result: R, seconds: Double) {
        let start = ContinuousClock.now
        let result = try work()
        return (result, seconds(since: start))
    }

    /// Seconds elapsed since `start`.
    public static func seconds(since start: ContinuousClock.Instant) -> Double {
        let elapsed = ContinuousClock.now - start
        return Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) * 1e-18
    }
}
