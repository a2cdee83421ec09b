import LandscapeCore
import Networks

/// Central finite differences in Double against the backward pass of a network.
///
/// The scalar checked is `f = sum(r * y)` for a fixed random `r` when no labels are given (so every
/// output element matters), or the mean cross-entropy with label smoothing 0.1 when labels are.
/// The error of a set of derivatives is `max |analytic - numeric| / max |numeric|` over the set: a
/// norm-wise relative error, so near-zero derivatives do not inflate it.
struct GradientCheck {
    let network: Network<Double>
    let input: Buffer<Double>
    let shape: Shape
    let labels: [Int32]?
    let projection: Buffer<Double>
    let mode: Mode
    static let step = 1e-6

    init(_ network: Network<Double>, batch: Int, labels: [Int32]? = nil, mode: Mode = .training(updatesStatistics: false), seed: UInt64 = 7) {
        self.network = network
        self.mode = mode
        self.labels = labels
        shape = network.inputShape.with(n: batch)
        var generator = RandomGenerator(seed: seed, stream: 99)
        input = Buffer(count: shape.count)
        for i in 0..<shape.count { input.pointer[i] = generator.normal() }
        let outputCount = network.forward(Tensor(input, shape), mode: mode).shape.count
        projection = Buffer(count: outputCount)
        for i in 0..<outputCount { projection.pointer[i] = generator.normal() }
    }

    /// The checked scalar at the current parameters and input.
    func value() -> Double {
        let x = Tensor(input, shape)
        if let labels {
            return labels.withUnsafeBufferPointer { network.loss(x, labels: $0.baseAddress!, smoothing: 0.1, mode: mode).loss }
        }
        let y = network.forward(x, mode: mode)
        return (0..<y.shape.count).reduce(0) { $0 + projection.pointer[$1] * y.pointer[$1] }
    }

    /// Runs backward once; returns the input gradient (nil if the network does not compute it).
    func analytic() -> [Double]? {
        let x = Tensor(input, shape)
        if let labels {
            labels.withUnsafeBufferPointer { _ = network.lossAndGradient(x, labels: $0.baseAddress!, smoothing: 0.1, mode: mode) }
            return nil
        }
        let y = network.forward(x, mode: mode)
        return network.backward(Tensor(projection.pointer, y.shape)).map { Array($0.elements) }
    }

    /// The derivative of `value()` along one coordinate of a buffer.
    func numeric(_ pointer: UnsafeMutablePointer<Double>) -> Double {
        let saved = pointer.pointee
        pointer.pointee = saved + Self.step
        let plus = value()
        pointer.pointee = saved - Self.step
        let minus = value()
        pointer.pointee = saved
        return (plus - minus) / (2 * Self.step)
    }

    /// Relative error of the input gradient over every input element.
    func inputError() -> Double {
        guard let analytic = analytic() else { return .infinity }
        let numeric = (0..<shape.count).map { self.numeric(input.pointer + $0) }
        return Self.relativeError(analytic, numeric)
    }

    /// Relative error of each parameter tensor's gradient over up to `samples` coordinates of it
    /// (all of them when the tensor is small), chosen by a seeded generator.
    func parameterErrors(samples: Int = 40) -> [String: Double] {
        _ = analytic()
        let gradients = Array(network.gradients.elements)
        var generator = RandomGenerator(seed: 11)
        var errors: [String: Double] = [:]
        for entry in network.parameters.layout.entries {
            let indices = entry.count <= samples ? Array(entry.range) : (0..<samples).map { _ in entry.offset + generator.integer(below: entry.count) }
            let numeric = indices.map { self.numeric(network.parameters.pointer + $0) }
            errors[entry.name] = Self.relativeError(indices.map { gradients[$0] }, numeric)
        }
        return errors
    }

    static func relativeError(_ analytic: [Double], _ numeric: [Double]) -> Double {
        let difference = zip(analytic, numeric).map { abs($0 - $1) }.max() ?? 0
        let scale = numeric.map(abs).max() ?? 0
        return scale == 0 ? difference : difference / scale
    }
}
