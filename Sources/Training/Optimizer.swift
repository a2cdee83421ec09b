import LandscapeCore
import Networks

/// An update rule for the parameter vector: `w <- w - lr * direction(g, state)`.
///
/// Optimizers work on whole vectors (every tensor of the model at once), keep their state in
/// buffers of the same length, and can save and restore that state so an interrupted run resumes
/// bit for bit. Each element's update depends on that element alone, so a step can be split
/// between threads (`step(parameters:gradients:on:)`) with the same result. SAM and its variants
/// wrap any of them (`SAM`).
public protocol Optimizer: AnyObject {
    /// The rate of the next step; a `LearningRateSchedule` sets it before every step.
    var learningRate: Double { get set }
    /// Steps taken so far.
    var steps: Int { get }
    /// Counts a step and fixes what stays the same across it; `update` then applies it.
    func beginStep()
    /// The current step's update of the parameters in `range` from the gradients there (read,
    /// not changed); called once for each part of a split of the vector, possibly at the same time.
    func update(_ range: Range<Int>, parameters: ParameterVector<Float>, gradients: ParameterVector<Float>)
    /// The optimizer's state as named tensors (for resuming).
    func state() -> [SafeTensorsTensor]
    /// Restores the state written by `state()`.
    func restore(_ file: SafeTensorsFile) throws(FileError)
    /// The optimizer and its hyperparameters as compact JSON, for checkpoint metadata.
    var json: String { get }
}

extension Optimizer {
    /// One update of `parameters` from `gradients` (read, not changed), split between `network`'s
    /// threads when one is given.
    public func step(parameters: ParameterVector<Float>, gradients: ParameterVector<Float>, on network: Network<Float>? = nil) {
        precondition(parameters.count == gradients.count, "Optimizer: \(parameters.count) parameters, \(gradients.count) gradients")
        beginStep()
        forEachSlice(of: parameters.count, on: network) { update($0, parameters: parameters, gradients: gradients) }
    }

    /// A step with the gradient of `network`'s training pass on the batch `x`, fused with the pass:
    /// each slice of the parameters is updated as soon as its gradient is final
    /// (`Network.lossAndGradient(_:labels:smoothing:mode:update:)`), which gives the same bits as
    /// the pass followed by `step`. Returns the pass's evaluation; `network.gradients` hold the
    /// gradient after it.
    @discardableResult
    public func step(_ network: Network<Float>, _ x: Tensor<Float>, labels: UnsafePointer<Int32>, smoothing: Double = 0) -> Evaluation {
        let (parameters, gradients) = (network.parameters, network.gradients)
        beginStep()
        return network.lossAndGradient(x, labels: labels, smoothing: smoothing) { update($0, parameters: parameters, gradients: gradients) }
    }

    /// Reads a saved state vector of `count` elements into `buffer`.
    func restoreVector(_ name: String, from file: SafeTensorsFile, into buffer: Buffer<Float>, count: Int) throws(FileError) {
        let values = try file.floats(name)
        guard values.count == count else {
            throw FileError(file: file.url.path, problem: "optimizer state '\(name)' has \(values.count) elements, the model has \(count) parameters")
        }
        buffer.pointer.update(from: values, count: count)
    }

    /// Reads the saved step count.
    func restoreSteps(from file: SafeTensorsFile) throws(FileError) -> Int {
        guard let steps = try file.integers("steps").first, steps >= 0 else {
            throw FileError(file: file.url.path, problem: "optimizer state 'steps' must be one non-negative integer")
        }
        return Int(steps)
    }
}

/// `body` on the whole of `0..<count`, or on its slices on `network`'s threads.
func forEachSlice(of count: Int, on network: Network<Float>?, _ body: (Range<Int>) -> Void) {
    guard let network else { return body(0..<count) }
    network.forEachSlice(of: count, body)
}
