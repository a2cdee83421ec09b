import LandscapeCore

/// When a Lanczos run for extreme eigenvalues stops (the run also stops at its iteration limit).
public enum LanczosConvergence: String, Sendable, Codable, CaseIterable {
    /// Every wanted Ritz pair `(theta_k, y_k)` has a residual estimate `|beta_m s_mk|` of at most
    /// `tolerance * |theta_k|`, where `s_mk` is the last component of the eigenvector of the Lanczos
    /// matrix `T_m` and `beta_m` the next off-diagonal entry; `||A y_k - theta_k y_k|| = |beta_m s_mk|`
    /// in exact arithmetic (Parlett, The Symmetric Eigenvalue Problem, sec. 13.2), so some eigenvalue
    /// lies within that distance of `theta_k`. The safe choice, and the default.
    case residual
    /// Every wanted Ritz value changed by at most `tolerance * |theta_k|` in the last iteration, as
    /// PyHessian's power iteration stops. Cheaper to meet, but a slowly converging value can pass it
    /// early.
    case ritzValueChange
}

/// The Lanczos process with full reorthogonalization on a symmetric linear operator `A` of
/// dimension `n` (Lanczos 1950; Golub and Van Loan, Matrix Computations, 4th ed., sec. 10.1):
///
///     w = A q_j - alpha_j q_j - beta_{j-1} q_{j-1},  alpha_j = q_j^T A q_j,
///     beta_j = ||w||,  q_{j+1} = w / beta_j,
///
/// which builds an orthonormal basis `Q_m` of the Krylov space of the start vector and the
/// tridiagonal `T_m = Q_m^T A Q_m` (diagonal `alpha`, off-diagonal `beta`). Every new `w` is
/// orthogonalized against all previous `q_i` twice by classical Gram-Schmidt ("twice is enough",
/// Giraud et al. 2005), so the basis stays orthogonal to rounding and no ghost copies of converged
/// eigenvalues appear; this keeps all `m` vectors (`m n` doubles).
///
/// When `beta_j` vanishes (`<= 1e-10 ||T||`, the Krylov space is invariant) the process either
/// stops (a quadrature for the start vector is then exact) or, for eigenvalue runs, continues
/// with a random vector orthogonal to the basis and `beta_j = 0`, so that multiple eigenvalues and
/// eigenvalues outside the first Krylov space are found too.
struct LanczosProcess {
    let dimension: Int
    private let apply: ([Double]) -> [Double]
    private let restartsOnBreakdown: Bool
    private var generator: RandomGenerator
    /// The basis `q_1 ... q_m`.
    private(set) var vectors: [[Double]] = []
    /// The diagonal of `T_m`.
    private(set) var alphas: [Double] = []
    /// `betas[j]` couples `q_{j+1}` and `q_{j+2}`; the last one is `beta_m`, the residual norm.
    private(set) var betas: [Double] = []
    /// Operator applications so far.
    private(set) var products = 0
    private var next: [Double]?
    private var scale = 0.0
    /// Whether the last step found an invariant subspace (`beta_m` set to 0) and the process
    /// restarted: every Ritz value then has a zero residual, yet copies of multiple eigenvalues may
    /// still lie outside the space.
    private(set) var restarted = false

    /// A process from `start` (normalized here; it must not be zero). `generator` draws restart
    /// vectors after a breakdown.
    init(dimension: Int, start: [Double], restartsOnBreakdown: Bool, generator: RandomGenerator, apply: @escaping ([Double]) -> [Double]) {
        precondition(start.count == dimension, "Lanczos: start vector of \(start.count) for dimension \(dimension)")
        let norm = DenseVector.norm(start)
        precondition(norm > 0 && norm.isFinite, "Lanczos: the start vector must be nonzero and finite")
        self.dimension = dimension
        self.apply = apply
        self.restartsOnBreakdown = restartsOnBreakdown
        self.generator = generator
        next = DenseVector.scaled(start, by: 1 / norm)
    }

    /// Steps taken, the size of `T_m`.
    var steps: Int { alphas.count }

    /// One Lanczos step; false when the process cannot continue (the whole space is spanned, or the
    /// Krylov space is invariant and restarts are off).
    mutating func step() -> Bool {
        guard let q = next else { return false }
        var w = apply(q)
        products += 1
        precondition(w.count == dimension && w.allSatisfy(\.isFinite), "Lanczos: the operator returned a vector that is not finite or of the wrong length")
        var alpha = DenseVector.dot(q, w)
        DenseVector.add(-alpha, q, to: &w)
        if let previous = vectors.last, let beta = betas.last { DenseVector.add(-beta, previous, to: &w) }
        vectors.append(q)
        for _ in 0..<2 {
            for (i, v) in vectors.enumerated() {
                let c = DenseVector.dot(v, w)
                DenseVector.add(-c, v, to: &w)
                if i == vectors.count - 1 { alpha += c }
            }
        }
        alphas.append(alpha)
        let beta = DenseVector.norm(w)
        scale = max(scale, abs(alpha) + beta + (betas.last ?? 0))
        restarted = false
        if vectors.count >= dimension {
            betas.append(0)
            next = nil
        } else if beta <= 1e-10 * scale {
            betas.append(0)
            next = restartsOnBreakdown ? orthogonalRandomVector() : nil
            restarted = next != nil
        } else {
            betas.append(beta)
            next = DenseVector.scaled(w, by: 1 / beta)
        }
        return true
    }

    /// A unit Gaussian vector orthogonal to the basis, or nil if none is left numerically.
    private mutating func orthogonalRandomVector() -> [Double]? {
        var r = (0..<dimension).map { _ in generator.normal() }
        let original = DenseVector.norm(r)
        for _ in 0..<2 {
            for v in vectors { DenseVector.add(-DenseVector.dot(v, r), v, to: &r) }
        }
        let norm = DenseVector.norm(r)
        return norm > 1e-8 * original ? DenseVector.scaled(r, by: 1 / norm) : nil
    }

    /// The eigenvalues of `T_m` (descending) and rows `rows` of its eigenvector matrix.
    func ritz(rows: [Int]) -> (values: [Double], rows: [[Double]]) {
        SymmetricEigendecomposition.tridiagonal(diagonal: alphas, offDiagonal: Array(betas.dropLast()), rows: rows)
    }

    /// The Ritz vectors `Q_m s_k` of the first `count` Ritz values (descending).
    func ritzVectors(_ count: Int) -> [[Double]] {
        let m = steps
        let (_, s) = ritz(rows: Array(0..<m))
        return (0..<min(count, m)).map { k in
            var y = [Double](repeating: 0, count: dimension)
            for j in 0..<m { DenseVector.add(s[j][k], vectors[j], to: &y) }
            return y
        }
    }
}
