import LandscapeCore

extension Hessian {
    /// The trace of the Hessian at `point` (or of its diagonal block `settings.block`) by
    /// Hutchinson's estimator, `tr(H) = E[v^T H v]` for random `v` with `E[v v^T] = I`
    /// (Hutchinson 1990; Avron and Toledo, "Randomized algorithms for estimating the trace of an
    /// implicit symmetric positive semi-definite matrix", J. ACM 2011), as PyHessian's `trace()`.
    ///
    /// Samples are drawn until the standard error of their mean is at most
    /// `settings.relativeTolerance * |mean|` (after at least `settings.minSamples`), or
    /// `settings.maxSamples` are taken. With Rademacher vectors the variance of one sample is
    /// `2 (||H||_F^2 - sum_i H_ii^2)`: zero for a diagonal matrix, whose trace every sample gives
    /// exactly. Each sample is one Hessian-vector product.
    public static func trace(of objective: any Objective, at point: [Double],
                             settings: HessianTraceSettings = HessianTraceSettings()) -> HessianTrace {
        precondition(settings.minSamples >= 2 && settings.maxSamples >= settings.minSamples,
                     "Hessian.trace: need 2 <= minSamples (\(settings.minSamples)) <= maxSamples (\(settings.maxSamples))")
        precondition(settings.relativeTolerance >= 0, "Hessian.trace: relativeTolerance \(settings.relativeTolerance) is negative")
        return preservingParameters(of: objective) {
            let range = Hessian.range(of: settings.block, in: objective)
            let apply = blockOperator(of: objective, at: point, range: range)
            var generator = RandomGenerator(seed: settings.seed, stream: Stream.trace ^ DenseVector.stream(for: settings.block))
            var samples: [Double] = []
            var converged = false
            while samples.count < settings.maxSamples {
                let v = DenseVector.probe(range.count, settings.distribution, &generator)
                samples.append(DenseVector.dot(v, apply(v)))
                if samples.count >= settings.minSamples {
                    let (mean, error) = DenseVector.meanAndStandardError(samples)
                    if error <= settings.relativeTolerance * abs(mean) {
                        converged = true
                        break
                    }
                }
            }
            let (mean, error) = DenseVector.meanAndStandardError(samples)
            return HessianTrace(settings: settings, dimension: range.count, trace: mean, standardError: error,
                                samples: samples, converged: converged)
        }
    }
}

/// Settings of `Hessian.trace`.
public struct HessianTraceSettings: Codable, Sendable, Equatable {
    /// The most samples (Hessian-vector products). Default 100, PyHessian's `maxIter`.
    public var maxSamples: Int
    /// Samples taken before the stopping rule is checked (at least 2, for a standard error).
    /// Default 10: fewer make the standard error itself too noisy to stop on.
    public var minSamples: Int
    /// Stop when the standard error of the mean is at most this fraction of `|mean|`. Default 0.01,
    /// a 1% standard error. (PyHessian stops when the running mean changes by less than 1e-3
    /// relative, which says little about its error.)
    public var relativeTolerance: Double
    /// The probe distribution. Default Rademacher.
    public var distribution: ProbeDistribution
    /// A parameter block for the trace of the diagonal block `H_BB`; nil for the whole Hessian.
    public var block: String?
    /// The seed of the probe vectors (their generator stream also depends on `block`).
    public var seed: UInt64

    /// Settings with the defaults documented on each property.
    public init(maxSamples: Int = 100, minSamples: Int = 10, relativeTolerance: Double = 0.01,
                distribution: ProbeDistribution = .rademacher, block: String? = nil, seed: UInt64 = 0) {
        self.maxSamples = maxSamples
        self.minSamples = minSamples
        self.relativeTolerance = relativeTolerance
        self.distribution = distribution
        self.block = block
        self.seed = seed
    }
}

/// A Hutchinson estimate of a Hessian's trace (or of one of its diagonal blocks).
public struct HessianTrace: Codable, Sendable, Equatable {
    /// The settings it was computed with.
    public let settings: HessianTraceSettings
    /// The dimension of the operator: the whole parameter vector or the block.
    public let dimension: Int
    /// The estimate: the mean of the samples.
    public let trace: Double
    /// The standard error of the mean, `s / sqrt(N)`.
    public let standardError: Double
    /// Every sample `v^T H v`, in order; their count is the number of Hessian-vector products.
    public let samples: [Double]
    /// Whether the relative tolerance was met before `maxSamples`.
    public let converged: Bool
}
