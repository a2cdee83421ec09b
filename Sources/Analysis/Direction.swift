import Foundation
import LandscapeCore
import Networks

/// How a random direction is scaled to the network it perturbs (Li et al. 2018, sec. 4).
public enum DirectionNormalization: String, Sendable, CaseIterable, Codable {
    /// Each filter `d_f` scaled to `||w_f||` (a filter is one output channel of a conv weight, one
    /// row of a linear weight): the paper's filter normalization, which makes pictures of different
    /// networks comparable despite the scale invariance of ReLU networks with batch-norm.
    case filter
    /// The whole tensor scaled to `||w||`.
    case layer
    /// `d * w`, elementwise.
    case weight
    /// Each filter scaled to unit norm.
    case dfilter
    /// The whole tensor scaled to unit norm.
    case dlayer
    /// Gaussian as drawn.
    case none
}

/// A direction in weight space: one value per parameter and, when asked for, per batch-norm
/// running statistic, laid out like the network's vectors.
public struct Direction: Sendable, Equatable {
    public var parameters: [Double]
    /// Directions for running means and variances (nil: the statistics stay at the checkpoint's).
    public var state: [Double]?

    public init(parameters: [Double], state: [Double]?) {
        self.parameters = parameters
        self.state = state
    }

    /// A Gaussian direction from `seed`, normalized tensor by tensor. With `ignoreBiasAndNorm`
    /// (`--ignore biasbn`, the default) every 1-D tensor (biases, batch-norm weights and biases,
    /// running statistics) gets a zero direction; otherwise 1-D tensors get a copy of the weights,
    /// as the reference code does. With `includeState` the running statistics get a direction too
    /// (the reference's `dir_type=states`).
    public static func random<T: Scalar>(like network: Network<T>, seed: UInt64, normalization: DirectionNormalization = .filter,
                                         ignoreBiasAndNorm: Bool = true, includeState: Bool = false) -> Direction {
        var generator = RandomGenerator(seed: seed, stream: 0x4449_5245)
        func draw(_ vector: ParameterVector<T>) -> [Double] {
            var d = [Double](repeating: 0, count: vector.count)
            for entry in vector.layout.entries {
                let w = vector.view(entry).map(Double.init)
                let values = (0..<entry.count).map { _ in generator.normal() }
                let normalized: [Double]
                if entry.shape.count <= 1 {
                    normalized = ignoreBiasAndNorm ? [Double](repeating: 0, count: entry.count) : w
                } else {
                    normalized = normalize(values, like: w, filters: entry.shape[0], normalization)
                }
                d.replaceSubrange(entry.range, with: normalized)
            }
            return d
        }
        let parameters = draw(network.parameters)
        return Direction(parameters: parameters, state: includeState ? draw(network.state) : nil)
    }

    /// Scales `d` to the tensor `w` made of `filters` equal runs, as `normalization` says. The norms
    /// get 1e-10 added to the divisor, as in the reference code.
    static func normalize(_ d: [Double], like w: [Double], filters: Int, _ normalization: DirectionNormalization) -> [Double] {
        func norm(_ v: ArraySlice<Double>) -> Double { v.reduce(0) { $0 + $1 * $1 }.squareRoot() }
        switch normalization {
        case .none:
            return d
        case .weight:
            return zip(d, w).map(*)
        case .layer, .dlayer:
            let scale = (normalization == .layer ? norm(w[...]) : 1) / (norm(d[...]) + 1e-10)
            return d.map { $0 * scale }
        case .filter, .dfilter:
            let size = d.count / filters
            var out = d
            for f in 0..<filters {
                let run = (f * size)..<((f + 1) * size)
                let scale = (normalization == .filter ? norm(w[run]) : 1) / (norm(d[run]) + 1e-10)
                for i in run { out[i] *= scale }
            }
            return out
        }
    }

    /// This direction minus its projection on `other` (Gram-Schmidt over parameters and state),
    /// for a second axis orthogonal to the first.
    public func orthogonalized(to other: Direction) -> Direction {
        func dot(_ a: [Double], _ b: [Double]) -> Double { zip(a, b).reduce(0) { $0 + $1.0 * $1.1 } }
        let ownState = state ?? [], otherState = other.state ?? []
        let numerator = dot(parameters, other.parameters) + dot(ownState, otherState)
        let denominator = dot(other.parameters, other.parameters) + dot(otherState, otherState)
        guard denominator > 0 else { return self }
        let c = numerator / denominator
        // A missing state direction is zero; the result has one when either side does.
        let resultState: [Double]?
        switch (state, other.state) {
        case (nil, nil): resultState = nil
        case let (own?, nil): resultState = own
        case let (own, theirs?): resultState = zip(own ?? [Double](repeating: 0, count: theirs.count), theirs).map { $0 - c * $1 }
        }
        return Direction(parameters: zip(parameters, other.parameters).map { $0 - c * $1 }, state: resultState)
    }

    /// The direction from `start` to `end` (their difference), parameters and running statistics:
    /// the axis of a linear interpolation `w(a) = (1 - a) w1 + a w2 = w1 + a (w2 - w1)`.
    public static func between<T: Scalar>(_ start: Network<T>, _ end: Network<T>) -> Direction {
        precondition(start.parameters.layout == end.parameters.layout, "Direction.between: different models")
        return Direction(parameters: zip(end.parameters.elements, start.parameters.elements).map { Double($0) - Double($1) },
                         state: zip(end.state.elements, start.state.elements).map { Double($0) - Double($1) })
    }
}
