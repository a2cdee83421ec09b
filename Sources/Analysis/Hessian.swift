import LandscapeCore

/// The Hessian of an objective at a point, seen only through Hessian-vector products `H v`
/// (`Objective.hessianVectorProduct`): its extreme eigenvalues by Lanczos, its trace by
/// Hutchinson's estimator, both per parameter block, and its eigenvalue density by stochastic
/// Lanczos quadrature. These are the quantities of PyHessian (Yao, Gholami, Keutzer and Mahoney,
/// "PyHessian: Neural Networks Through the Lens of the Hessian", IEEE BigData 2020,
/// arXiv:1912.07145), computed here in Double with full reorthogonalization.
///
/// Every function leaves a `NetworkObjective`'s parameters as they were, and is reproducible from
/// the seed in its settings. Results are `Codable` and carry all their settings.
public enum Hessian {
    /// The range of `block` in `objective.blocks` (the whole vector for nil).
    static func range(of block: String?, in objective: any Objective) -> Range<Int> {
        guard let block else { return 0..<objective.dimension }
        guard let found = objective.blocks.first(where: { $0.name == block }) else {
            preconditionFailure("Hessian: no block named \(block); the blocks are \(objective.blocks.map(\.name))")
        }
        return found.range
    }

    /// The diagonal block `H_BB` of the Hessian at `point` as an operator on vectors of the block's
    /// length: `x` is placed in the block with zeros elsewhere, multiplied by `H`, and the block's
    /// part of the product kept.
    static func blockOperator(of objective: any Objective, at point: [Double], range: Range<Int>) -> ([Double]) -> [Double] {
        precondition(point.count == objective.dimension, "Hessian: point of \(point.count) for dimension \(objective.dimension)")
        let n = objective.dimension
        if range == 0..<n {
            return { objective.hessianVectorProduct(at: point, $0) }
        }
        return { x in
            var v = [Double](repeating: 0, count: n)
            v.replaceSubrange(range, with: x)
            return Array(objective.hessianVectorProduct(at: point, v)[range])
        }
    }

    /// The largest algebraic eigenvalues `lambda_1 >= lambda_2 >= ... >= lambda_k` of the Hessian
    /// at `point` (or of its diagonal block `settings.block`), by the Lanczos method with full
    /// reorthogonalization from a seeded Gaussian start (Lanczos 1950; Golub and Van Loan, Matrix
    /// Computations, sec. 10.1).
    ///
    /// After each step the tridiagonal `T_m` is diagonalized by the implicit QL method; its `k`
    /// largest eigenvalues (Ritz values) are the estimates. Algebraic, not magnitude: a Hessian
    /// with eigenvalues `{3, -5}` gives `3` first. The run stops by `settings.convergence` at
    /// `settings.tolerance`, or after `settings.maxIterations` steps, or when the space is
    /// exhausted (then the values are exact). When the Krylov space closes (`beta_m = 0`, e.g. for
    /// a matrix with few distinct eigenvalues) the run continues from a random vector orthogonal to
    /// it rather than stop, so that multiple eigenvalues are found with their multiplicity. Each
    /// step is one Hessian-vector product.
    public static func topEigenvalues(of objective: any Objective, at point: [Double],
                                      settings: HessianEigenvalueSettings = HessianEigenvalueSettings()) -> HessianEigenvalues {
        precondition(settings.count >= 1, "Hessian.topEigenvalues: count \(settings.count) must be at least 1")
        precondition(settings.maxIterations >= 1 && settings.tolerance >= 0, "Hessian.topEigenvalues: maxIterations \(settings.maxIterations) and tolerance \(settings.tolerance)")
        return preservingParameters(of: objective) {
            let range = Hessian.range(of: settings.block, in: objective)
            let n = range.count
            precondition(n > 0, "Hessian.topEigenvalues: the block is empty")
            var generator = RandomGenerator(seed: settings.seed, stream: Stream.eigenvalues ^ DenseVector.stream(for: settings.block))
            let start = (0..<n).map { _ in generator.normal() }
            var process = LanczosProcess(dimension: n, start: start, restartsOnBreakdown: true, generator: generator,
                                         apply: blockOperator(of: objective, at: point, range: range))
            let k = min(settings.count, n)
            let limit = min(max(settings.maxIterations, k), n)
            var values: [Double] = []
            var residuals: [Double] = []
            var changes: [Double]? = nil
            var converged = false
            while process.step() {
                let m = process.steps
                let (ritz, rows) = process.ritz(rows: [m - 1])
                let top = Array(ritz.prefix(k))
                let scale = ritz.reduce(0) { max($0, abs($1)) }
                func relative(_ x: Double, _ theta: Double) -> Double { x / max(abs(theta), 1e-8 * scale, .leastNormalMagnitude) }
                residuals = (0..<top.count).map { abs(process.betas[m - 1] * rows[0][$0]) }
                changes = values.count == top.count ? (0..<top.count).map { relative(abs(top[$0] - values[$0]), top[$0]) } : nil
                values = top
                if top.count == k && !process.restarted {
                    switch settings.convergence {
                    case .residual:
                        converged = (0..<k).allSatisfy { relative(residuals[$0], top[$0]) <= settings.tolerance }
                    case .ritzValueChange:
                        converged = changes.map { $0.allSatisfy { $0 <= settings.tolerance } } ?? false
                    }
                }
                if converged || m >= limit { break }
            }
            if process.steps >= n && values.count == k { converged = true }
            return HessianEigenvalues(
                settings: settings, dimension: n, eigenvalues: values, residualEstimates: residuals,
                relativeChanges: changes, iterations: process.products, converged: converged,
                eigenvectors: settings.computesEigenvectors ? process.ritzVectors(k) : nil)
        }
    }

    /// Generator streams, one per estimator, so that they never share random numbers for a seed.
    enum Stream {
        static let eigenvalues: UInt64 = 0x4845_5349_0001
        static let trace: UInt64 = 0x4845_5349_0002
        static let density: UInt64 = 0x4845_5349_0003
    }
}

/// Settings of `Hessian.topEigenvalues`.
public struct HessianEigenvalueSettings: Codable, Sendable, Equatable {
    /// How many of the largest algebraic eigenvalues, `k`. Default 1, the sharpness `lambda_max`.
    public var count: Int
    /// The most Lanczos steps (Hessian-vector products); capped at the dimension. Default 100:
    /// PyHessian's power iteration also allows 100, and Lanczos needs far fewer steps than power
    /// iteration for the same accuracy (tens for a well-separated top eigenvalue).
    public var maxIterations: Int
    /// The relative tolerance of the stopping rule. Default 1e-3, PyHessian's.
    public var tolerance: Double
    /// Which quantity must fall below the tolerance. Default `.residual`.
    public var convergence: LanczosConvergence
    /// Whether to return the Ritz vectors (`k` vectors of the block's length).
    public var computesEigenvectors: Bool
    /// The name of a parameter block (`Objective.blocks`) for the eigenvalues of the diagonal block
    /// `H_BB`; nil for the whole Hessian.
    public var block: String?
    /// The seed of the random start vector (its generator stream also depends on `block`).
    public var seed: UInt64

    /// Settings with the defaults documented on each property.
    public init(count: Int = 1, maxIterations: Int = 100, tolerance: Double = 1e-3, convergence: LanczosConvergence = .residual,
                computesEigenvectors: Bool = false, block: String? = nil, seed: UInt64 = 0) {
        self.count = count
        self.maxIterations = maxIterations
        self.tolerance = tolerance
        self.convergence = convergence
        self.computesEigenvectors = computesEigenvectors
        self.block = block
        self.seed = seed
    }
}

/// The largest algebraic eigenvalues of a Hessian (or of one of its diagonal blocks) by Lanczos.
public struct HessianEigenvalues: Codable, Sendable, Equatable {
    /// The settings it was computed with.
    public let settings: HessianEigenvalueSettings
    /// The dimension of the operator: the whole parameter vector or the block.
    public let dimension: Int
    /// The top Ritz values, largest first (`min(count, dimension)` of them).
    public let eigenvalues: [Double]
    /// `|beta_m s_mk|` for each eigenvalue: the residual norm `||H y_k - theta_k y_k||` of the unit
    /// Ritz vector; an eigenvalue lies within it (and, for an isolated one, within its square over
    /// the gap).
    public let residualEstimates: [Double]
    /// `|theta_k^(m) - theta_k^(m-1)| / |theta_k^(m)|` in the last step (nil after a single step).
    public let relativeChanges: [Double]?
    /// Lanczos steps taken, each one Hessian-vector product.
    public let iterations: Int
    /// Whether the stopping rule was met (or the space exhausted) before the iteration limit.
    public let converged: Bool
    /// The unit Ritz vectors, when asked for: `eigenvectors[k]` belongs to `eigenvalues[k]`.
    public let eigenvectors: [[Double]]?
}
