/// Evenly spaced coordinates along one axis of a surface, written `min:max:count` on the command
/// line (default `-1:1:51`), as `numpy.linspace(min, max, count)` gives them.
public struct GridAxis: Equatable, Sendable, CustomStringConvertible {
    public let minimum: Double
    public let maximum: Double
    public let count: Int

    public init(minimum: Double, maximum: Double, count: Int) throws(AnalysisError) {
        guard count >= 1 else { throw AnalysisError("grid \(minimum):\(maximum):\(count): count must be at least 1") }
        guard minimum.isFinite, maximum.isFinite, minimum < maximum || (minimum == maximum && count == 1) else {
            throw AnalysisError("grid \(minimum):\(maximum):\(count): expected min < max (or min = max with count 1)")
        }
        self.minimum = minimum
        self.maximum = maximum
        self.count = count
    }

    /// Parses `min:max:count`, e.g. `-1:1:51` or `0:1.5:31`.
    public init(argument: String) throws(AnalysisError) {
        let parts = argument.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 3, let minimum = Double(parts[0]), let maximum = Double(parts[1]), let count = Int(parts[2]) else {
            throw AnalysisError("grid '\(argument)': expected min:max:count, e.g. -1:1:51")
        }
        try self.init(minimum: minimum, maximum: maximum, count: count)
    }

    /// The coordinates: `min + i (max - min) / (count - 1)`, the last one exactly `max`.
    public var values: [Double] {
        guard count > 1 else { return [minimum] }
        let step = (maximum - minimum) / Double(count - 1)
        return (0..<count).map { $0 == count - 1 ? maximum : minimum + Double($0) * step }
    }

    public var description: String { "\(minimum):\(maximum):\(count)" }
}

/// An analysis argument or input the user can fix.
public struct AnalysisError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}
