import LandscapeCore
import Networks

/// A training path seen in the plane of its two principal directions, as the reference
/// loss-landscape code's `plot_trajectory` makes it: the differences `w_i - w_final` of the
/// per-epoch checkpoints are centred and decomposed (PCA), and each checkpoint is projected onto the
/// two leading components.
public struct Trajectory: Codable, Sendable {
    /// The checkpoints, in order, the last being the final one (the origin of the plane).
    public var checkpoints: [String]
    /// Coordinates of each checkpoint along the two directions.
    public var x: [Double]
    public var y: [Double]
    /// Fraction of the variance of the differences that each direction explains.
    public var explainedVarianceRatio: [Double]
    /// Whether 1-D tensors (biases, batch-norm) were left out, as the reference does by default.
    public var ignoresBiasAndNorm: Bool

    enum CodingKeys: String, CodingKey {
        case checkpoints, x, y, explainedVarianceRatio = "explained_variance_ratio", ignoresBiasAndNorm = "ignore_biasbn"
    }

    /// The principal directions (unit vectors over the parameters) and the trajectory in their plane.
    /// `networks` are the checkpoints in training order, the final one last; as in the reference
    /// code the final one's own difference (zero) is one of the points of the PCA.
    public static func compute(_ networks: [Network<Float>], names: [String], ignoreBiasAndNorm: Bool = true)
        throws(AnalysisError) -> (Trajectory, Direction, Direction) {
        precondition(networks.count >= 3, "Trajectory: needs at least two checkpoints besides the final one")
        let final = networks.last!
        let layout = final.parameters.layout
        let mask = layout.entries.flatMap { entry in
            [Bool](repeating: !(ignoreBiasAndNorm && entry.shape.count <= 1), count: entry.count)
        }
        let differences: [[Double]] = networks.map { network in
            zip(zip(network.parameters.elements, final.parameters.elements), mask).map { pair, kept in
                kept ? Double(pair.0) - Double(pair.1) : 0
            }
        }
        let n = differences.count
        let dimension = final.parameters.count
        let mean = (0..<dimension).map { i in differences.reduce(0) { $0 + $1[i] } / Double(n) }
        let centred = differences.map { zip($0, mean).map { $0 - $1 } }
        // PCA through the small n x n Gram matrix: if G u = lambda u, then X^T u / sqrt(lambda) is a
        // unit principal direction with variance lambda / (n - 1).
        var gram = [[Double]](repeating: [Double](repeating: 0, count: n), count: n)
        for a in 0..<n {
            for b in a..<n {
                let value = zip(centred[a], centred[b]).reduce(0) { $0 + $1.0 * $1.1 }
                gram[a][b] = value
                gram[b][a] = value
            }
        }
        let decomposition = SymmetricEigendecomposition(symmetric: gram)
        let (values, vectors) = (decomposition.eigenvalues, decomposition.eigenvectors)
        guard values.count >= 2, values[1] > 1e-12 * values[0] else {
            throw AnalysisError("the checkpoints lie on a line (or coincide): their differences have no second principal direction")
        }
        let total = values.reduce(0) { $0 + max($1, 0) }
        func component(_ k: Int) -> [Double] {
            let u = vectors[k]
            let scale = 1 / max(values[k], 1e-300).squareRoot()
            return (0..<dimension).map { i in scale * (0..<n).reduce(0) { $0 + u[$1] * centred[$1][i] } }
        }
        let first = component(0), second = component(1)
        func project(_ d: [Double], on axis: [Double]) -> Double { zip(d, axis).reduce(0) { $0 + $1.0 * $1.1 } }
        let trajectory = Trajectory(
            checkpoints: names, x: differences.map { project($0, on: first) }, y: differences.map { project($0, on: second) },
            explainedVarianceRatio: [values[0] / total, values[1] / total], ignoresBiasAndNorm: ignoreBiasAndNorm)
        return (trajectory, Direction(parameters: first, state: nil), Direction(parameters: second, state: nil))
    }
}
