import LandscapeCore

extension Sharpness {
    /// Average-case sharpness,
    ///
    ///     S = E_z [L(w + d)] - L(w),  d = sigma z             (plain)
    ///                                 d = sigma (|w| + eta) z  (adaptive, settings.adaptive)
    ///
    /// with `z ~ N(0, I)` on the perturbed blocks, estimated by the mean of `settings.samples`
    /// differences `L(w + d_j) - L(w)` and reported with its standard error (Andriushchenko et al.
    /// 2023, sec. 3; the plain form is the expected sharpness of PAC-Bayes bounds, Neyshabur et al.
    /// 2017, "Exploring Generalization in Deep Learning", NeurIPS). For a quadratic
    /// `L = 1/2 (w - c)^T A (w - c)` it is exactly `sigma^2 tr(A) / 2` (plain) and
    /// `sigma^2 / 2 sum_i A_ii (|w_i| + eta)^2` (adaptive).
    ///
    /// With `settings.antithetic`, each sample is `(L(w + d_j) + L(w - d_j)) / 2 - L(w)`: the same
    /// expectation, without the first-order term `g^T d` that dominates the variance away from a
    /// minimum (two values per sample).
    ///
    /// `L(w)` is evaluated last, and a `NetworkObjective`'s parameters are restored.
    public static func average(of objective: any Objective, at point: [Double], settings: AverageSharpnessSettings) -> AverageSharpness {
        precondition(point.count == objective.dimension, "Sharpness.average: point of \(point.count) for dimension \(objective.dimension)")
        precondition(settings.sigma >= 0 && settings.eta >= 0, "Sharpness.average: sigma \(settings.sigma) and eta \(settings.eta)")
        precondition(settings.samples >= 2, "Sharpness.average: need at least 2 samples for a standard error, not \(settings.samples)")
        return preservingParameters(of: objective) {
            let scale = Sharpness.scale(at: point, ranges: ranges(of: settings.blocks, in: objective), adaptive: settings.adaptive, offset: settings.eta)
            let active = scale.indices.filter { scale[$0] != 0 }
            var generator = RandomGenerator(seed: settings.seed, stream: Stream.average)
            var perturbedLosses: [Double] = []
            for _ in 0..<settings.samples {
                var plus = point, minus = point
                for i in active {
                    let d = settings.sigma * scale[i] * generator.normal()
                    plus[i] += d
                    minus[i] -= d
                }
                let value = objective.value(at: plus)
                perturbedLosses.append(settings.antithetic ? (value + objective.value(at: minus)) / 2 : value)
            }
            let loss = objective.value(at: point)
            let differences = perturbedLosses.map { $0 - loss }
            let (mean, error) = DenseVector.meanAndStandardError(differences)
            return AverageSharpness(settings: settings, dimension: point.count, perturbedCoordinates: active.count, loss: loss,
                                    sharpness: mean, standardError: error, samples: differences,
                                    valueEvaluations: settings.samples * (settings.antithetic ? 2 : 1) + 1)
        }
    }
}

/// Settings of `Sharpness.average`.
public struct AverageSharpnessSettings: Codable, Sendable, Equatable {
    /// The standard deviation `sigma` of the noise (relative to `|w| + eta` when adaptive).
    public var sigma: Double
    /// Noise `sigma (|w| + eta) z` instead of `sigma z`. Default false.
    public var adaptive: Bool
    /// The offset of the adaptive scale. Default 0, as in `WorstCaseSharpnessSettings`.
    public var eta: Double
    /// Noise draws. Default 100; the result's standard error says whether that is enough.
    public var samples: Int
    /// Antithetic pairs `+-d`. Default false, the plain Monte Carlo mean of the definition.
    public var antithetic: Bool
    /// The names of the blocks that are perturbed; nil for all.
    public var blocks: [String]?
    /// The seed of the noise.
    public var seed: UInt64

    /// Settings with the defaults documented on each property.
    public init(sigma: Double, adaptive: Bool = false, eta: Double = 0, samples: Int = 100, antithetic: Bool = false,
                blocks: [String]? = nil, seed: UInt64 = 0) {
        self.sigma = sigma
        self.adaptive = adaptive
        self.eta = eta
        self.samples = samples
        self.antithetic = antithetic
        self.blocks = blocks
        self.seed = seed
    }
}

/// An average-case sharpness estimate.
public struct AverageSharpness: Codable, Sendable, Equatable {
    /// The settings it was computed with.
    public let settings: AverageSharpnessSettings
    /// Length of the parameter vector, and how many of its coordinates were perturbed.
    public let dimension: Int
    /// Coordinates free to move (nonzero scale).
    public let perturbedCoordinates: Int
    /// `L(w)`.
    public let loss: Double
    /// The mean of the samples: the estimate of `E L(w + d) - L(w)`.
    public let sharpness: Double
    /// The standard error of that mean.
    public let standardError: Double
    /// Every sample `L(w + d_j) - L(w)` (or its antithetic form), in order.
    public let samples: [Double]
    /// Objective values computed, including `L(w)`.
    public let valueEvaluations: Int
}
