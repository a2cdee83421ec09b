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
}
