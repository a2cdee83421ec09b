import LandscapeCore

/// An update rule for the parameter vector: `w <- w - lr * direction(g, state)`.
///
/// Optimizers work on whole vectors (every tensor of the model at once), keep their state in
/// buffers of the same length, and can save and restore that state so an interrupted run resumes
/// bit for bit. SAM and its variants wrap any of them (`SAM`).
public protocol Optimizer: AnyObject {
    /// The rate of the next step; a `LearningRateSchedule` sets it before every step.
    var learningRate: Double { get set }
    /// Steps taken so far.
    var steps: Int { get }
    /// One update of `parameters` from `gradients` (read, not changed).
    func step(parameters: ParameterVector<Float>, gradients: ParameterVector<Float>)
    /// The optimizer's state as named tensors (for resuming).
    func state() -> [SafeTensorsTensor]
    /// Restores the state written by `state()`.
    func restore(_ file: SafeTensorsFile) throws(FileError)
    /// The optimizer and its hyperparameters as compact JSON, for checkpoint metadata.
    var json: String { get }
}

extension Optimizer {
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
