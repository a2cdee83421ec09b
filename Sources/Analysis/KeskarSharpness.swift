import LandscapeCore

extension Sharpness {
    /// Keskar et al. (2017)'s epsilon-sharpness in the full space (their `A = I_n`),
    ///
    ///     phi = 100 (max_{d in C} L(w + d) - L(w)) / (1 + L(w)),  C = {d : |d_i| <= eps (|w_i| + 1)},
    ///
    /// a box whose sides scale with the weights. Keskar et al. maximize with L-BFGS-B; here the box
    /// is the L-infinity ball of radius `eps` in `u = d / (|w| + 1)`, maximized by projected sign
    /// gradient ascent (`PerturbationAscent`, the same engine as the worst-case sharpness; the
    /// gradient in `u` is `(|w| + 1) * grad L`). Keskar et al. report `eps = 1e-3` and `5e-4`.
    /// Their random-subspace variant (`A` of `p` random columns) is not implemented.
    ///
    /// `L(w)` is evaluated last, and a `NetworkObjective`'s parameters are restored.
    public static func keskar(of objective: any Objective, at point: [Double],
                              settings: KeskarSharpnessSettings = KeskarSharpnessSettings()) -> KeskarSharpness {
        precondition(point.count == objective.dimension, "Sharpness.keskar: point of \(point.count) for dimension \(objective.dimension)")
        precondition(settings.epsilon >= 0 && settings.steps >= 1 && settings.randomStarts >= 0 && settings.stepSize > 0,
                     "Sharpness.keskar: epsilon \(settings.epsilon), steps \(settings.steps), randomStarts \(settings.randomStarts), stepSize \(settings.stepSize)")
        return preservingParameters(of: objective) {
            let scale = Sharpness.scale(at: point, ranges: ranges(of: settings.blocks, in: objective), adaptive: true, offset: 1)
            let ascent = PerturbationAscent(objective: objective, point: point, scale: scale, norm: .linf, radius: settings.epsilon,
                                            steps: settings.steps, schedule: settings.schedule, stepSize: settings.stepSize)
            var generator = RandomGenerator(seed: settings.seed, stream: Stream.keskar)
            let outcome = ascent.run(zeroStart: true, randomStarts: settings.randomStarts, generator: &generator)
            let loss = objective.value(at: point)
            return KeskarSharpness(
                settings: settings, dimension: point.count, loss: loss, maximumLoss: outcome.bestLoss,
                sharpness: 100 * (outcome.bestLoss - loss) / (1 + loss), runs: outcome.runs,
                gradientEvaluations: outcome.gradients, valueEvaluations: outcome.values + 1)
        }
    }
}

/// Settings of `Sharpness.keskar`.
public struct KeskarSharpnessSettings: Codable, Sendable, Equatable {
    /// The box's relative half-width `eps`. Default 1e-3, the larger of Keskar et al.'s two.
    public var epsilon: Double
    /// Ascent steps per start. Default 20, as for the worst-case sharpness.
    public var steps: Int
    /// Random starts in the box besides the one from `d = 0`. Default 0.
    public var randomStarts: Int
    /// The step-size schedule. Default `.apgd`.
    public var schedule: AscentSchedule
    /// The (first) step as a multiple of `eps`. Default 2 (APGD's).
    public var stepSize: Double
    /// The names of the blocks that are perturbed; nil for all.
    public var blocks: [String]?
    /// The seed of random starts and random directions.
    public var seed: UInt64

    /// Settings with the defaults documented on each property.
    public init(epsilon: Double = 1e-3, steps: Int = 20, randomStarts: Int = 0, schedule: AscentSchedule = .apgd, stepSize: Double = 2,
                blocks: [String]? = nil, seed: UInt64 = 0) {
        self.epsilon = epsilon
        self.steps = steps
        self.randomStarts = randomStarts
        self.schedule = schedule
        self.stepSize = stepSize
        self.blocks = blocks
        self.seed = seed
    }
}

/// Keskar et al.'s epsilon-sharpness.
public struct KeskarSharpness: Codable, Sendable, Equatable {
    /// The settings it was computed with.
    public let settings: KeskarSharpnessSettings
    /// Length of the parameter vector.
    public let dimension: Int
    /// `L(w)`.
    public let loss: Double
    /// The largest loss found in the box.
    public let maximumLoss: Double
    /// `100 (maximumLoss - loss) / (1 + loss)`.
    public let sharpness: Double
    /// Every start's ascent (losses in the units of `L`).
    public let runs: [AscentRun]
    /// Gradients computed.
    public let gradientEvaluations: Int
    /// Values computed, including `L(w)`.
    public let valueEvaluations: Int
}
