import Foundation
import LandscapeCore

extension Hessian {
    /// The eigenvalue density of the Hessian at `point` (or of its diagonal block
    /// `settings.block`) by stochastic Lanczos quadrature (Golub and Meurant 1994; Lin, Saad and
    /// Yang, "Approximating spectral densities of large matrices", SIAM Review 2016; Ghorbani,
    /// Krishnan and Xiao, "An investigation into neural net optimization via Hessian eigenvalue
    /// density", ICML 2019), as PyHessian's `density()`.
    ///
    /// For a unit probe `v`, the spectral measure `mu_v = sum_i (v^T u_i)^2 delta(lambda_i)` has
    /// expectation `(1/n) sum_i delta(lambda_i)` for Rademacher `v / sqrt(n)`. `m` Lanczos steps
    /// from `v` (full reorthogonalization, no restart) give `T_m = S diag(theta) S^T`, and the
    /// Gauss quadrature `sum_j tau_j delta(theta_j)` with nodes `theta_j` and weights
    /// `tau_j = S_1j^2` matches the first `2m - 1` moments of `mu_v`. The density averages the
    /// quadratures of `settings.runs` probes, each node broadened by a Gaussian of standard
    /// deviation `sigma`:
    ///
    ///     phi(t) = (1 / runs) sum_runs sum_j tau_j exp(-(t - theta_j)^2 / 2 sigma^2) / (sigma sqrt(2 pi)),
    ///
    /// on `settings.gridPoints` evenly spaced points from the smallest node minus `5 sigma` to the
    /// largest plus `5 sigma`, where `sigma = settings.relativeBandwidth * (max theta - min theta)`.
    /// The weights of a run add up to 1, so `phi` integrates to 1 and its mean is the mean of
    /// `v^T H v / v^T v`, a Hutchinson estimate of `tr(H) / n`. Each step is one Hessian-vector
    /// product; a run ends early, exactly, if its Krylov space is invariant.
    public static func density(of objective: any Objective, at point: [Double],
                               settings: SpectralDensitySettings = SpectralDensitySettings()) -> SpectralDensity {
        precondition(settings.runs >= 1 && settings.iterations >= 1, "Hessian.density: runs \(settings.runs) and iterations \(settings.iterations) must be positive")
        precondition(settings.gridPoints >= 2 && settings.relativeBandwidth > 0, "Hessian.density: gridPoints \(settings.gridPoints) and relativeBandwidth \(settings.relativeBandwidth)")
        return preservingParameters(of: objective) {
            let range = Hessian.range(of: settings.block, in: objective)
            let apply = blockOperator(of: objective, at: point, range: range)
            var generator = RandomGenerator(seed: settings.seed, stream: Stream.density ^ DenseVector.stream(for: settings.block))
            var nodes: [[Double]] = []
            var weights: [[Double]] = []
            var products = 0
            for _ in 0..<settings.runs {
                let start = DenseVector.probe(range.count, settings.distribution, &generator)
                var process = LanczosProcess(dimension: range.count, start: start, restartsOnBreakdown: false, generator: generator, apply: apply)
                while process.steps < settings.iterations && process.step() {}
                products += process.products
                let (theta, rows) = process.ritz(rows: [0])
                nodes.append(theta)
                weights.append(rows[0].map { $0 * $0 })
            }
            let lowest = nodes.joined().min()!, highest = nodes.joined().max()!
            let width = highest > lowest ? highest - lowest : max(abs(highest), 1)
            let sigma = settings.relativeBandwidth * width
            let (from, to) = (lowest - 5 * sigma, highest + 5 * sigma)
            let step = (to - from) / Double(settings.gridPoints - 1)
            let grid = (0..<settings.gridPoints).map { from + Double($0) * step }
            let normalization = 1 / (sigma * (2 * Double.pi).squareRoot() * Double(settings.runs))
            let density = grid.map { t in
                var sum = 0.0
                for (theta, tau) in zip(nodes, weights) {
                    for j in theta.indices {
                        let z = (t - theta[j]) / sigma
                        sum += tau[j] * exp(-0.5 * z * z)
                    }
                }
                return sum * normalization
            }
            let mean = zip(nodes, weights).reduce(0) { $0 + DenseVector.dot($1.0, $1.1) } / Double(settings.runs)
            return SpectralDensity(settings: settings, dimension: range.count, nodes: nodes, weights: weights,
                                   bandwidth: sigma, grid: grid, density: density, mean: mean, hessianVectorProducts: products)
        }
    }
}

/// Settings of `Hessian.density`.
public struct SpectralDensitySettings: Codable, Sendable, Equatable {
    /// Independent probes, each with its own Lanczos run. Default 1, PyHessian's `n_v`; more
    /// average out the probe's randomness (the bulk), not the resolution.
    public var runs: Int
    /// Lanczos steps per run, `m` (capped at the dimension): `m` nodes per run. Default 100,
    /// PyHessian's `iter` (Ghorbani et al. use 90).
    public var iterations: Int
    /// The probe distribution. Default Rademacher.
    public var distribution: ProbeDistribution
    /// The Gaussian kernel's standard deviation as a fraction of the spread of the nodes.
    /// Default 0.01. (PyHessian uses the variance `1e-5 max(1, spread)` on 10000 grid points;
    /// a relative width keeps the grid of `gridPoints` resolving the kernel, here 10 points per
    /// `sigma` by default, whatever the scale of the Hessian.)
    public var relativeBandwidth: Double
    /// Points of the grid. Default 1000.
    public var gridPoints: Int
    /// A parameter block for the density of the diagonal block `H_BB`; nil for the whole Hessian.
    public var block: String?
    /// The seed of the probes (their generator stream also depends on `block`).
    public var seed: UInt64

    /// Settings with the defaults documented on each property.
    public init(runs: Int = 1, iterations: Int = 100, distribution: ProbeDistribution = .rademacher, relativeBandwidth: Double = 0.01,
                gridPoints: Int = 1000, block: String? = nil, seed: UInt64 = 0) {
        self.runs = runs
        self.iterations = iterations
        self.distribution = distribution
        self.relativeBandwidth = relativeBandwidth
        self.gridPoints = gridPoints
        self.block = block
        self.seed = seed
    }
}

/// A Hessian eigenvalue density by stochastic Lanczos quadrature.
public struct SpectralDensity: Codable, Sendable, Equatable {
    /// The settings it was computed with.
    public let settings: SpectralDensitySettings
    /// The dimension of the operator: the whole parameter vector or the block.
    public let dimension: Int
    /// The quadrature nodes (Ritz values, descending) of each run.
    public let nodes: [[Double]]
    /// The quadrature weights of each run, `tau_j = S_1j^2`; each run's add up to 1.
    public let weights: [[Double]]
    /// The kernel's standard deviation `sigma`.
    public let bandwidth: Double
    /// The grid and the density on it.
    public let grid: [Double]
    /// The density at each grid point.
    public let density: [Double]
    /// The mean eigenvalue of the quadratures, `(1/runs) sum tau_j theta_j`: an estimate of
    /// `tr(H) / n`.
    public let mean: Double
    /// Hessian-vector products over all runs.
    public let hessianVectorProducts: Int

    /// The integral of the density over the grid by the trapezoidal rule (1 up to the tails
    /// beyond `5 sigma`).
    public var integral: Double { trapezoid(density) }
    /// The mean of the density on the grid, `integral t phi(t) dt / integral phi(t) dt`.
    public var densityMean: Double { trapezoid(zip(grid, density).map { $0 * $1 }) / integral }

    private func trapezoid(_ values: [Double]) -> Double {
        guard grid.count > 1 else { return 0 }
        var sum = 0.0
        for i in 1..<grid.count { sum += 0.5 * (values[i] + values[i - 1]) * (grid[i] - grid[i - 1]) }
        return sum
    }
}
