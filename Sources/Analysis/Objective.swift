/// A scalar function of a parameter vector: the loss of a network on a fixed evaluation set, or a
/// function with a known answer in tests. Sharpness measures and Hessian spectra are written
/// against this, so every one of them can be checked on quadratics where the answer is exact.
///
/// Points and directions are `[Double]`: each call evaluates a whole data set, so converting the
/// vector costs nothing by comparison, and the algorithms (Lanczos, projected ascent) keep their
/// own arithmetic in Double.
public protocol Objective: AnyObject {
    /// Length of the parameter vector.
    var dimension: Int { get }
    /// Named contiguous blocks of the vector (a network's parameter tensors), for per-layer results.
    var blocks: [(name: String, range: Range<Int>)] { get }
    /// The value at `point`.
    func value(at point: [Double]) -> Double
    /// The value and the gradient at `point`.
    func gradient(at point: [Double]) -> (value: Double, gradient: [Double])
    /// The Hessian at `point` times `vector`.
    func hessianVectorProduct(at point: [Double], _ vector: [Double]) -> [Double]
}

extension Objective {
    /// The whole vector as one block.
    public var blocks: [(name: String, range: Range<Int>)] { [("all", 0..<dimension)] }

    /// The Hessian-vector product by a central difference of gradients,
    /// `(g(w + h v) - g(w - h v)) / 2h` with `h = sqrt(eps) * (1 + ||w||) / ||v||`, where `eps` is the
    /// relative accuracy of the gradients (Float's 2^-23 for a network evaluated in float32): the
    /// step that balances truncation `O(h^2)` against rounding `O(eps / h)` (Nocedal and Wright,
    /// Numerical Optimization, sec. 8.1).
    public func centralDifferenceHessianVectorProduct(at point: [Double], _ vector: [Double], gradientAccuracy: Double) -> [Double] {
        let vectorNorm = vector.reduce(0) { $0 + $1 * $1 }.squareRoot()
        guard vectorNorm > 0 else { return [Double](repeating: 0, count: vector.count) }
        let pointNorm = point.reduce(0) { $0 + $1 * $1 }.squareRoot()
        let h = gradientAccuracy.squareRoot() * (1 + pointNorm) / vectorNorm
        let plus = gradient(at: zip(point, vector).map { $0 + h * $1 }).gradient
        let minus = gradient(at: zip(point, vector).map { $0 - h * $1 }).gradient
        return zip(plus, minus).map { ($0 - $1) / (2 * h) }
    }
}
