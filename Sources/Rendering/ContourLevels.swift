import Foundation

/// The values at which a contour plot draws isolines and changes colour.
public enum ContourLevels {
    /// The reference loss-landscape code's defaults for a loss surface: 0.1 to 10 in steps of 0.5.
    public static let reference = linear(from: 0.1, to: 10, step: 0.5)

    /// `from`, `from + step`, ... up to and including `to` (within rounding).
    public static func linear(from: Double, to: Double, step: Double) -> [Double] {
        precondition(step > 0 && from <= to, "ContourLevels.linear: \(from):\(to):\(step)")
        let count = Int(((to - from) / step + 1e-9).rounded(.down)) + 1
        return (0..<count).map { from + Double($0) * step }
    }

    /// `count` levels spaced evenly in log scale from `from` to `to`.
    public static func logarithmic(from: Double, to: Double, count: Int) -> [Double] {
        precondition(from > 0 && from < to && count >= 2, "ContourLevels.logarithmic: \(from):\(to):\(count)")
        let (a, b) = (log10(from), log10(to))
        return (0..<count).map { pow(10, a + (b - a) * Double($0) / Double(count - 1)) }
    }

    /// About `count` round levels spanning `lower...upper`: multiples of a 1-2-2.5-5 step, or on a
    /// log scale the numbers 1, 2 and 5 (or, when that gives fewer than `count / 2`, 1, 1.5, 2, 3, 5
    /// and 7) times powers of ten.
    public static func automatic(lower: Double, upper: Double, count: Int = 15, log: Bool = false) -> [Double] {
        precondition(lower.isFinite && upper.isFinite && lower <= upper, "ContourLevels.automatic: \(lower)...\(upper)")
        if log {
            precondition(lower > 0, "ContourLevels.automatic: a log scale needs positive values")
            let (low, high) = (Int(log10(lower).rounded(.down)), Int(log10(upper).rounded(.up)))
            func levels(_ mantissas: [Double]) -> [Double] {
                let all = (low...high).flatMap { e in mantissas.map { $0 * pow(10, Double(e)) } }
                let below = all.last { $0 <= lower } ?? all[0]
                let above = all.first { $0 >= upper } ?? all[all.count - 1]
                let levels = all.filter { $0 >= below && $0 <= above }
                return levels.count >= 2 ? levels : [below, below * 10]
            }
            let coarse = levels([1, 2, 5])
            return coarse.count >= count / 2 ? coarse : levels([1, 1.5, 2, 3, 5, 7])
        }
        let step = Scale.niceStep(max(upper - lower, 1e-12) / Double(max(count, 1)))
        let first = (lower / step).rounded(.down) * step
        let last = max((upper / step).rounded(.up) * step, first + step)
        return linear(from: first, to: last + step * 1e-6, step: step)
    }

    /// The part of `levels` that matters for data in `lower...upper`: the levels inside, plus the
    /// nearest level on each side, so the colour scale spans the data and no more.
    public static func trimmed(_ levels: [Double], lower: Double, upper: Double) -> [Double] {
        let sorted = levels.sorted()
        let start = sorted.lastIndex { $0 <= lower } ?? 0
        let end = sorted.firstIndex { $0 >= upper } ?? sorted.count - 1
        let kept = Array(sorted[start...max(end, start)])
        return kept.count >= 2 ? kept : Array(sorted.prefix(2))
    }
}
