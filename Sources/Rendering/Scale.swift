import Foundation

/// A map from data values in `lower...upper` to fractions 0...1 along an axis, linear or
/// logarithmic, with the tick marks a reader expects.
public struct Scale: Equatable, Sendable {
    public enum Kind: String, Sendable { case linear, log }

    public let kind: Kind
    public let lower: Double
    public let upper: Double

    /// A scale over `lower...upper`; an empty range is widened so the fraction stays defined, and a
    /// log scale needs a positive lower end.
    public init(_ kind: Kind = .linear, lower: Double, upper: Double) {
        precondition(lower.isFinite && upper.isFinite && lower <= upper, "Scale: bad range \(lower)...\(upper)")
        precondition(kind == .linear || lower > 0, "Scale: a log scale needs positive values, not \(lower)")
        self.kind = kind
        if lower < upper {
            (self.lower, self.upper) = (lower, upper)
        } else if kind == .log {
            (self.lower, self.upper) = (lower / 2, upper * 2)
        } else {
            let pad = max(abs(lower) * 0.05, 1e-12)
            (self.lower, self.upper) = (lower - pad, upper + pad)
        }
    }

    /// Where `value` lies, 0 at `lower` and 1 at `upper` (outside for values beyond the range).
    public func fraction(_ value: Double) -> Double {
        switch kind {
        case .linear: (value - lower) / (upper - lower)
        case .log: (log10(max(value, .leastNormalMagnitude)) - log10(lower)) / (log10(upper) - log10(lower))
        }
    }

    /// The value at `fraction`.
    public func value(at fraction: Double) -> Double {
        switch kind {
        case .linear: lower + fraction * (upper - lower)
        case .log: pow(10, log10(lower) + fraction * (log10(upper) - log10(lower)))
        }
    }

    /// Tick values inside the range with their labels: multiples of 1, 2, 2.5 or 5 times a power
    /// of ten, at most about `count` of them; on a log scale powers of ten, with 2 and 5 (then 1.5,
    /// 3 and 7) between them while there would be fewer than four ticks.
    public func ticks(count: Int = 6) -> [(value: Double, label: String)] {
        switch kind {
        case .linear:
            let step = Self.niceStep((upper - lower) / Double(max(count, 1)))
            let first = (lower / step - 1e-9).rounded(.up)
            let last = (upper / step + 1e-9).rounded(.down)
            guard first <= last else { return [] }
            return stride(from: first, through: last, by: 1).map { k in
                let value = k * step
                return (value, Self.label(abs(value) < step * 1e-9 ? 0 : value, step: step))
            }
        case .log:
            let (low, high) = (Int(log10(lower).rounded(.down)), Int(log10(upper).rounded(.up)))
            let every = max(1, (high - low) / max(count, 1))
            func ticks(_ mantissas: [Double]) -> [(value: Double, label: String)] {
                var ticks: [(value: Double, label: String)] = []
                for exponent in stride(from: low, through: high, by: every) {
                    for m in mantissas {
                        let value = m * pow(10, Double(exponent))
                        if value >= lower * (1 - 1e-9) && value <= upper * (1 + 1e-9) { ticks.append((value, String(format: "%g", value))) }
                    }
                }
                return ticks
            }
            // Powers of ten; 1-2-5 within a few decades; 1-1.5-2-3-5-7 when that still gives few ticks.
            for mantissas: [Double] in [[1], [1, 2, 5], [1, 1.5, 2, 3, 5, 7]] {
                let chosen = ticks(mantissas)
                if chosen.count >= 4 || mantissas.count == 6 { return chosen }
            }
            return []
        }
    }

    /// The smallest of 1, 2, 2.5 and 5 times a power of ten that is at least `rough`.
    public static func niceStep(_ rough: Double) -> Double {
        guard rough > 0, rough.isFinite else { return 1 }
        let power = pow(10, (log10(rough)).rounded(.down))
        for m in [1, 2, 2.5, 5, 10] as [Double] where m * power >= rough * (1 - 1e-9) { return m * power }
        return 10 * power
    }

    /// `value` with as many decimals as `step` needs; scientific notation for very large or small.
    public static func label(_ value: Double, step: Double) -> String {
        if value == 0 { return "0" }
        let magnitude = abs(value)
        if magnitude >= 1e5 || magnitude < 1e-4 { return String(format: "%.3g", value) }
        var decimals = max(0, Int((-log10(step)).rounded(.up)))
        // Steps like 0.25 need one decimal more than their power of ten.
        while decimals < 8, abs((step * pow(10, Double(decimals))).rounded() - step * pow(10, Double(decimals))) > 1e-6 { decimals += 1 }
        return String(format: "%.\(decimals)f", value)
    }
}
