import Analysis
import LandscapeCore

/// `L(w) = 1/2 (w - c)^T A (w - c) + offset` with a symmetric `A`: exact gradient `A (w - c)` and
/// exact Hessian-vector product `A v`, so sharpness measures and spectra have closed forms.
/// Records the points it is called at, to check that an analysis ends at the analysed point.
final class QuadraticObjective: Objective {
    let matrix: [[Double]]
    let centre: [Double]
    let offset: Double
    let blocks: [(name: String, range: Range<Int>)]
    /// The point of the most recent call of any kind.
    private(set) var lastPoint: [Double]?
    private(set) var calls = 0

    init(matrix: [[Double]], centre: [Double], offset: Double = 0, blocks: [(name: String, range: Range<Int>)]? = nil) {
        precondition(matrix.count == centre.count && matrix.allSatisfy { $0.count == centre.count })
        self.matrix = matrix
        self.centre = centre
        self.offset = offset
        self.blocks = blocks ?? [("all", 0..<centre.count)]
    }

    /// `A = diag(diagonal)`.
    convenience init(diagonal: [Double], centre: [Double], offset: Double = 0, blocks: [(name: String, range: Range<Int>)]? = nil) {
        let n = diagonal.count
        self.init(matrix: (0..<n).map { i in (0..<n).map { i == $0 ? diagonal[i] : 0 } }, centre: centre, offset: offset, blocks: blocks)
    }

    var dimension: Int { centre.count }

    func times(_ v: [Double]) -> [Double] {
        matrix.map { row in zip(row, v).reduce(0) { $0 + $1.0 * $1.1 } }
    }

    func value(at point: [Double]) -> Double {
        record(point)
        let r = zip(point, centre).map { $0 - $1 }
        return 0.5 * zip(r, times(r)).reduce(0) { $0 + $1.0 * $1.1 } + offset
    }

    func gradient(at point: [Double]) -> (value: Double, gradient: [Double]) {
        record(point)
        let r = zip(point, centre).map { $0 - $1 }
        let g = times(r)
        return (0.5 * zip(r, g).reduce(0) { $0 + $1.0 * $1.1 } + offset, g)
    }

    func hessianVectorProduct(at point: [Double], _ vector: [Double]) -> [Double] {
        record(point)
        return times(vector)
    }

    private func record(_ point: [Double]) {
        precondition(point.count == dimension)
        lastPoint = point
        calls += 1
    }

    /// The trace of `A`.
    var trace: Double { (0..<dimension).reduce(0) { $0 + matrix[$1][$1] } }
}

/// Dense symmetric matrices with a known eigendecomposition, `A = Q diag(lambda) Q^T`, where `Q` is
/// a product of Householder reflections `I - 2 u u^T / u^T u` of seeded Gaussian vectors `u`.
enum KnownSpectrum {
    /// The orthogonal `Q` (rows), a product of `reflections` reflections.
    static func orthogonal(_ n: Int, seed: UInt64, reflections: Int = 4) -> [[Double]] {
        var q = (0..<n).map { i in (0..<n).map { i == $0 ? 1.0 : 0.0 } }
        var generator = RandomGenerator(seed: seed, stream: 77)
        for _ in 0..<reflections {
            let u = (0..<n).map { _ in generator.normal() }
            let uu = u.reduce(0) { $0 + $1 * $1 }
            // Q <- Q (I - 2 u u^T / u^T u)
            for i in 0..<n {
                let qu = (0..<n).reduce(0) { $0 + q[i][$1] * u[$1] }
                for j in 0..<n { q[i][j] -= 2 * qu * u[j] / uu }
            }
        }
        return q
    }

    /// `Q diag(lambda) Q^T` and `Q`, whose column `k` is the eigenvector of `lambda[k]`.
    static func matrix(eigenvalues lambda: [Double], seed: UInt64) -> (matrix: [[Double]], q: [[Double]]) {
        let n = lambda.count
        let q = orthogonal(n, seed: seed)
        let a = (0..<n).map { i in (0..<n).map { j in (0..<n).reduce(0) { $0 + q[i][$1] * lambda[$1] * q[j][$1] } } }
        return (a, q)
    }

    /// A seeded Gaussian vector.
    static func vector(_ n: Int, seed: UInt64, scale: Double = 1) -> [Double] {
        var generator = RandomGenerator(seed: seed, stream: 78)
        return (0..<n).map { _ in scale * generator.normal() }
    }
}
