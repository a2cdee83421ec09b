import Foundation
import LandscapeCore

/// How the step size of the projected gradient ascent evolves.
public enum AscentSchedule: String, Sendable, Codable, CaseIterable {
    /// Auto-PGD (Croce and Hein 2020, Algorithm 1), as Andriushchenko et al. (2023) use it for
    /// sharpness: the first step is `eta_0 = stepSize * rho`; then momentum,
    /// `z = P(x_k + eta s(g_k))`, `x_{k+1} = P(x_k + 0.75 (z - x_k) + 0.25 (x_k - x_{k-1}))`; at the
    /// checkpoints `w_j = ceil(p_j N)` of `N` steps (`p_0 = 0`, `p_1 = 0.22`,
    /// `p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06)`) the step is halved and the ascent restarts
    /// from the best point so far (without momentum) if fewer than 75% of the steps since the last
    /// checkpoint raised the loss, or if neither the step nor the best loss changed since it.
    case apgd
    /// A constant step `eta = stepSize * rho`, no momentum: plain projected (normalized) gradient
    /// ascent.
    case constant
}

/// One start of a projected gradient ascent.
public struct AscentRun: Codable, Sendable, Equatable {
    /// Where an ascent starts.
    public enum Start: String, Codable, Sendable {
        /// From `d = 0`, the unperturbed weights.
        case zero
        /// From a point drawn uniformly in the ball.
        case random
    }

    /// Where this ascent started.
    public let start: Start
    /// `L(w + d_k)` at every iterate `k = 0 ... steps`, the start first.
    public let losses: [Double]
    /// The largest of them.
    public let bestLoss: Double
    /// The iterate of the largest loss (0 is the start).
    public let bestIteration: Int
    /// The step size at the end (in the units of the ball, as `rho`).
    public let finalStepSize: Double
    /// How many times the schedule halved the step.
    public let halvings: Int
}

/// Projected gradient ascent of `L(w + s * u)` over `u` in the ball `||u||_p <= rho`, for the
/// worst-case, adaptive and Keskar sharpness measures.
///
/// `s` is an elementwise scale (1 for the plain ball, `|w| + eta` for the adaptive one,
/// `|w| + 1` for Keskar's box; 0 for weights that are not perturbed); by the chain rule the
/// gradient in `u` is `s * grad L(w + s * u)`. Steps are normalized: `eta g / ||g||_2` in the L2
/// ball, `eta sign(g)` in the L-infinity ball; where the gradient is exactly zero (at an exact
/// stationary point, e.g. the start `d = 0` at a minimum), the step takes a seeded random
/// direction instead, so the ascent can leave it. The best iterate over all starts is kept.
struct PerturbationAscent {
    let objective: any Objective
    let point: [Double]
    let scale: [Double]
    let norm: PerturbationNorm
    let radius: Double
    let steps: Int
    let schedule: AscentSchedule
    let stepSize: Double

    /// The result of all starts: the best `u` and its loss, the runs, and the evaluations made.
    struct Outcome {
        var bestLoss = -Double.infinity
        var best: [Double] = []
        var runs: [AscentRun] = []
        var gradients = 0
        var values = 0
    }

    private var active: [Int] { scale.indices.filter { scale[$0] != 0 } }

    /// Runs the ascent from `d = 0` (when `zeroStart`) and from `randomStarts` random points.
    func run(zeroStart: Bool, randomStarts: Int, generator: inout RandomGenerator) -> Outcome {
        var outcome = Outcome()
        let active = self.active
        for index in 0..<((zeroStart ? 1 : 0) + randomStarts) {
            let isZero = zeroStart && index == 0
            var u = [Double](repeating: 0, count: point.count)
            if !isZero { randomPoint(into: &u, active: active, &generator) }
            ascend(from: u, start: isZero ? .zero : .random, active: active, &generator, into: &outcome)
        }
        return outcome
    }

    /// `w + s * u`.
    func perturbed(_ u: [Double]) -> [Double] {
        var p = point
        for i in p.indices where scale[i] != 0 { p[i] += scale[i] * u[i] }
        return p
    }

    private func ascend(from start: [Double], start kind: AscentRun.Start, active: [Int], _ generator: inout RandomGenerator, into outcome: inout Outcome) {
        let checkpoints = schedule == .apgd ? PerturbationAscent.checkpoints(steps) : []
        var eta = stepSize * radius
        var x = start
        var previous = start
        var losses: [Double] = []
        var best = (loss: -Double.infinity, u: start, gradient: [Double](), iteration: 0)
        var halvings = 0
        var lastCheckpoint = 0, increases = 0
        var bestAtCheckpoint = -Double.infinity, reducedAtCheckpoint = false
        var momentum = false
        for k in 0...steps {
            let loss: Double
            var g: [Double] = []
            if k < steps {
                let evaluation = objective.gradient(at: perturbed(x))
                outcome.gradients += 1
                loss = evaluation.value
                g = evaluation.gradient
                precondition(g.count == point.count, "Sharpness: gradient of \(g.count) for dimension \(point.count)")
                for i in g.indices { g[i] *= scale[i] }
            } else {
                loss = objective.value(at: perturbed(x))
                outcome.values += 1
            }
            if let last = losses.last, loss > last { increases += 1 }
            losses.append(loss)
            if loss > best.loss { best = (loss, x, g, k) }
            if k == steps { break }

            var (base, gradient) = (x, g)
            if schedule == .apgd && checkpoints.contains(k) {
                let stalled = Double(increases) < 0.75 * Double(k - lastCheckpoint)
                let unchanged = !reducedAtCheckpoint && best.loss <= bestAtCheckpoint
                reducedAtCheckpoint = stalled || unchanged
                if reducedAtCheckpoint {
                    eta /= 2
                    halvings += 1
                    (base, gradient) = (best.u, best.gradient)
                    momentum = false
                }
                bestAtCheckpoint = best.loss
                lastCheckpoint = k
                increases = 0
            }
            var z = base
            let direction = self.direction(gradient, active: active, &generator)
            for i in active { z[i] += eta * direction[i] }
            project(&z, active: active)
            if schedule == .apgd && momentum {
                for i in active { z[i] = base[i] + 0.75 * (z[i] - base[i]) + 0.25 * (base[i] - previous[i]) }
                project(&z, active: active)
            }
            previous = base
            x = z
            momentum = schedule == .apgd
        }
        outcome.runs.append(AscentRun(start: kind, losses: losses, bestLoss: best.loss, bestIteration: best.iteration,
                                      finalStepSize: eta, halvings: halvings))
        if best.loss > outcome.bestLoss {
            outcome.bestLoss = best.loss
            outcome.best = best.u
        }
    }

    /// The APGD checkpoints in `1 ..< steps`: `ceil(p_j steps)` with `p_0 = 0`, `p_1 = 0.22`,
    /// `p_{j+1} = p_j + max(p_j - p_{j-1} - 0.03, 0.06)`.
    static func checkpoints(_ steps: Int) -> Set<Int> {
        var p = [0.0, 0.22]
        var result: Set<Int> = []
        while p.last! < 1 {
            let w = Int((p.last! * Double(steps)).rounded(.up))
            if w > 0 && w < steps { result.insert(w) }
            p.append(p.last! + max(p.last! - p[p.count - 2] - 0.03, 0.06))
        }
        return result
    }

    /// The normalized ascent direction on the active coordinates: `g / ||g||_2` or `sign(g)`; a
    /// seeded Gaussian direction, normalized the same way, where `g` is exactly zero.
    private func direction(_ g: [Double], active: [Int], _ generator: inout RandomGenerator) -> [Double] {
        var v = g
        if active.allSatisfy({ g[$0] == 0 }) {
            for i in active { v[i] = generator.normal() }
        }
        switch norm {
        case .l2:
            let length = active.reduce(0) { $0 + v[$1] * v[$1] }.squareRoot()
            if length > 0 { for i in active { v[i] /= length } }
        case .linf:
            for i in active { v[i] = v[i] > 0 ? 1 : (v[i] < 0 ? -1 : 0) }
        }
        return v
    }

    /// The Euclidean projection onto the ball: rescaling to `rho` (L2) or clipping to `[-rho, rho]`
    /// (L-infinity).
    private func project(_ u: inout [Double], active: [Int]) {
        switch norm {
        case .l2:
            let length = active.reduce(0) { $0 + u[$1] * u[$1] }.squareRoot()
            if length > radius { for i in active { u[i] *= radius / length } }
        case .linf:
            for i in active { u[i] = min(max(u[i], -radius), radius) }
        }
    }

    /// A point uniform in the ball on the active coordinates: a Gaussian direction at radius
    /// `rho U^(1/k)` for L2 (`k` active coordinates), uniform in `[-rho, rho]` each for L-infinity.
    private func randomPoint(into u: inout [Double], active: [Int], _ generator: inout RandomGenerator) {
        switch norm {
        case .l2:
            for i in active { u[i] = generator.normal() }
            let length = active.reduce(0) { $0 + u[$1] * u[$1] }.squareRoot()
            let r = radius * pow(generator.uniform(), 1 / Double(max(active.count, 1)))
            if length > 0 { for i in active { u[i] *= r / length } }
        case .linf:
            for i in active { u[i] = generator.uniform(-radius, radius) }
        }
    }

    /// `||u||_p` over the active coordinates.
    func constraintNorm(_ u: [Double]) -> Double {
        let active = self.active
        switch norm {
        case .l2: return active.reduce(0) { $0 + u[$1] * u[$1] }.squareRoot()
        case .linf: return active.reduce(0) { max($0, abs(u[$1])) }
        }
    }
}
