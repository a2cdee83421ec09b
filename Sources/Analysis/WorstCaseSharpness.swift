import LandscapeCore

extension Sharpness {
    /// Worst-case sharpness,
    ///
    ///     S = max_{||d||_p <= rho} L(w + d) - L(w),            (plain)
    ///     S = max_{||d / (|w| + eta)||_p <= rho} L(w + d) - L(w),  (adaptive, settings.adaptive)
    ///
    /// for `p = 2` or `p = infinity`, by projected gradient ascent with normalized steps (Foret et
    /// al. 2021; Andriushchenko et al. 2023, who evaluate it with Auto-PGD, Croce and Hein 2020).
    ///
    /// The adaptive ball (Kwon et al. 2021's ASAM ball, elementwise) is handled by the change of
    /// variables `d = (|w| + eta) * u`: the ascent runs in the plain ball `||u||_p <= rho` with the
    /// chain-rule gradient `g_u = (|w| + eta) * grad L(w + d)`. With the default `eta = 0` a zero
    /// weight does not move, so the measure is invariant to rescaling a ReLU unit's incoming and
    /// outgoing weights; `eta > 0` lets zero weights move by up to `rho eta`.
    ///
    /// Each start (one from `d = 0`, then `settings.randomStarts` from uniform points in the ball)
    /// takes `settings.steps` steps of `settings.schedule`: `steps` gradients and one value. The
    /// largest loss over all iterates of all starts is the result, so `S >= 0` up to evaluation
    /// noise. The steps are normalized (`rho`-sized whatever the gradient's scale); at an exact
    /// stationary point the first step takes a random direction (see `PerturbationAscent`).
    /// Only the blocks in `settings.blocks` are perturbed (all for nil).
    ///
    /// `L(w)` is evaluated last, and a `NetworkObjective`'s parameters are restored.
    public static func worstCase(of objective: any Objective, at point: [Double], settings: WorstCaseSharpnessSettings) -> WorstCaseSharpness {
        precondition(point.count == objective.dimension, "Sharpness.worstCase: point of \(point.count) for dimension \(objective.dimension)")
        precondition(settings.radius >= 0 && settings.radius.isFinite, "Sharpness.worstCase: radius \(settings.radius)")
        precondition(settings.steps >= 1 && settings.randomStarts >= 0, "Sharpness.worstCase: steps \(settings.steps) and randomStarts \(settings.randomStarts)")
        precondition(settings.eta >= 0 && settings.stepSize > 0, "Sharpness.worstCase: eta \(settings.eta) and stepSize \(settings.stepSize)")
        return preservingParameters(of: objective) {
            let scale = Sharpness.scale(at: point, ranges: ranges(of: settings.blocks, in: objective), adaptive: settings.adaptive, offset: settings.eta)
            let ascent = PerturbationAscent(objective: objective, point: point, scale: scale, norm: settings.norm, radius: settings.radius,
                                            steps: settings.steps, schedule: settings.schedule, stepSize: settings.stepSize)
            var generator = RandomGenerator(seed: settings.seed, stream: Stream.worstCase)
            let outcome = ascent.run(zeroStart: true, randomStarts: settings.randomStarts, generator: &generator)
            let d = zip(scale, outcome.best).map { $0 * $1 }
            let loss = objective.value(at: point)
            return WorstCaseSharpness(
                settings: settings, dimension: point.count, perturbedCoordinates: scale.filter { $0 != 0 }.count,
                loss: loss, perturbedLoss: outcome.bestLoss, sharpness: outcome.bestLoss - loss,
                constraintNorm: ascent.constraintNorm(outcome.best), perturbationNorm: DenseVector.norm(d),
                runs: outcome.runs, gradientEvaluations: outcome.gradients, valueEvaluations: outcome.values + 1,
                perturbation: settings.keepsPerturbation ? d : nil)
        }
    }
}

/// Settings of `Sharpness.worstCase` (and of each chunk of `Sharpness.mSharpness`).
public struct WorstCaseSharpnessSettings: Codable, Sendable, Equatable {
    /// The radius `rho` of the ball. No default: it depends on the norm and on whether the ball is
    /// adaptive (Andriushchenko et al. 2023 scan e.g. 0.0005 to 0.1 for plain L2, about 10 times
    /// larger for adaptive; SAM trains with 0.05, ASAM with 0.5 to 2).
    public var radius: Double
    /// `p`. Default `.l2`.
    public var norm: PerturbationNorm
    /// The elementwise adaptive ball `||d / (|w| + eta)||_p <= rho`. Default false.
    public var adaptive: Bool
    /// The offset in `|w| + eta` of the adaptive ball. Default 0: zero weights stay put, the
    /// definition of Andriushchenko et al. (2023); ASAM trains with 0.01.
    public var eta: Double
    /// Ascent steps per start, `N` (gradients). Default 20, the number Andriushchenko et al. (2023)
    /// found enough for APGD on networks.
    public var steps: Int
    /// Starts from uniform random points in the ball, besides the one from `d = 0`. Default 0.
    public var randomStarts: Int
    /// The step-size schedule. Default `.apgd`.
    public var schedule: AscentSchedule
    /// The (first) step as a multiple of `rho`. Default 2, APGD's `2 rho`: the first step reaches
    /// the boundary of the ball from anywhere inside it.
    public var stepSize: Double
    /// The names of the blocks that are perturbed (`Objective.blocks`; see
    /// `NetworkObjective.blockNames(roles:)`); nil for all.
    public var blocks: [String]?
    /// Whether the result keeps the worst perturbation `d` itself.
    public var keepsPerturbation: Bool
    /// The seed of random starts and random directions.
    public var seed: UInt64

    /// Settings with the defaults documented on each property.
    public init(radius: Double, norm: PerturbationNorm = .l2, adaptive: Bool = false, eta: Double = 0, steps: Int = 20,
                randomStarts: Int = 0, schedule: AscentSchedule = .apgd, stepSize: Double = 2, blocks: [String]? = nil,
                keepsPerturbation: Bool = false, seed: UInt64 = 0) {
        self.radius = radius
        self.norm = norm
        self.adaptive = adaptive
        self.eta = eta
        self.steps = steps
        self.randomStarts = randomStarts
        self.schedule = schedule
        self.stepSize = stepSize
        self.blocks = blocks
        self.keepsPerturbation = keepsPerturbation
        self.seed = seed
    }
}

/// A worst-case (or adaptive worst-case) sharpness.
public struct WorstCaseSharpness: Codable, Sendable, Equatable {
    /// The settings it was computed with.
    public let settings: WorstCaseSharpnessSettings
    /// Length of the parameter vector, and how many of its coordinates were free to move.
    public let dimension: Int
    /// Coordinates free to move (nonzero scale).
    public let perturbedCoordinates: Int
    /// `L(w)`.
    public let loss: Double
    /// `L(w + d*)`, the largest loss found.
    public let perturbedLoss: Double
    /// `L(w + d*) - L(w)`.
    public let sharpness: Double
    /// `||u*||_p` of the worst point in the ball's own coordinates (`d* / (|w| + eta)` when
    /// adaptive): at most `rho`.
    public let constraintNorm: Double
    /// `||d*||_2`, the Euclidean length of the worst perturbation of the weights.
    public let perturbationNorm: Double
    /// Every start's ascent.
    public let runs: [AscentRun]
    /// Gradients computed.
    public let gradientEvaluations: Int
    /// Values computed, including `L(w)`.
    public let valueEvaluations: Int
    /// `d*`, when `settings.keepsPerturbation`.
    public let perturbation: [Double]?
}
