import LandscapeCore

/// Vector arithmetic on `[Double]` for the sharpness and Hessian algorithms: points, directions
/// and Lanczos vectors are plain arrays (see `Objective`), and these are the few operations the
/// algorithms need, written once.
enum DenseVector {
    /// `sum_i a_i b_i`.
    static func dot(_ a: [Double], _ b: [Double]) -> Double {
        precondition(a.count == b.count, "DenseVector.dot: lengths \(a.count) and \(b.count)")
        var sum = 0.0
        for i in a.indices { sum += a[i] * b[i] }
        return sum
    }

    /// `||a||_2`.
    static func norm(_ a: [Double]) -> Double { dot(a, a).squareRoot() }

    /// `max_i |a_i|` (0 for an empty vector).
    static func maximumNorm(_ a: [Double]) -> Double { a.reduce(0) { max($0, abs($1)) } }

    /// `y += alpha x`.
    static func add(_ alpha: Double, _ x: [Double], to y: inout [Double]) {
        precondition(x.count == y.count, "DenseVector.add: lengths \(x.count) and \(y.count)")
        for i in y.indices { y[i] += alpha * x[i] }
    }

    /// `alpha x`.
    static func scaled(_ x: [Double], by alpha: Double) -> [Double] { x.map { alpha * $0 } }

    /// The sample mean and the standard error of the mean, `s / sqrt(n)` with the unbiased sample
    /// standard deviation `s` (infinite for fewer than two values).
    static func meanAndStandardError(_ values: [Double]) -> (mean: Double, standardError: Double) {
        guard !values.isEmpty else { return (.nan, .infinity) }
        let n = Double(values.count)
        let mean = values.reduce(0, +) / n
        guard values.count > 1 else { return (mean, .infinity) }
        let variance = values.reduce(0) { $0 + ($1 - mean) * ($1 - mean) } / (n - 1)
        return (mean, (variance / n).squareRoot())
    }

    /// A random probe vector of `count` entries: Rademacher (+-1 with probability 1/2 each) or
    /// standard normal.
    static func probe(_ count: Int, _ distribution: ProbeDistribution, _ generator: inout RandomGenerator) -> [Double] {
        switch distribution {
        case .rademacher: return (0..<count).map { _ in generator.next() >> 63 == 0 ? 1 : -1 }
        case .gaussian: return (0..<count).map { _ in generator.normal() }
        }
    }

    /// A deterministic 64-bit stream number for a name (FNV-1a of its UTF-8 bytes), so that a
    /// per-block computation draws its own random numbers and its result can be reproduced from its
    /// settings alone. Swift's `Hasher` is randomly seeded per process, so it cannot serve.
    static func stream(for name: String?) -> UInt64 {
        guard let name else { return 0 }
        var hash: UInt64 = 0xCBF2_9CE4_8422_2325
        for byte in name.utf8 {
            hash ^= UInt64(byte)
            hash = hash &* 0x0000_0100_0000_01B3
        }
        return hash
    }
}

/// How random probe vectors are drawn for stochastic trace and density estimates.
public enum ProbeDistribution: String, Sendable, Codable, CaseIterable {
    /// Entries +-1 with probability 1/2 each: the minimum-variance choice for Hutchinson's
    /// estimator (Avron and Toledo 2011), exact for a diagonal matrix, and PyHessian's choice.
    case rademacher
    /// Standard normal entries.
    case gaussian
}
