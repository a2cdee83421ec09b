import Foundation

/// The learning rate as a function of the step, given the base rate.
public enum LearningRateSchedule: Equatable, Sendable, CustomStringConvertible {
    /// The base rate throughout.
    case constant
    /// The base rate times `gamma` for every `every` epochs completed (PyTorch's `StepLR`).
    case step(every: Int, gamma: Double)
    /// A linear warm-up from `base / warmup` to `base` over the first `warmupEpochs`, then a cosine
    /// decay to zero at the last step (Loshchilov and Hutter 2017, without restarts):
    /// `base * (1 + cos(pi * t)) / 2` with `t` the fraction of the post-warm-up steps done.
    case cosine(warmupEpochs: Double)

    /// The rate of step `step` (counted from 0) in a run of `stepsPerEpoch * epochs` steps.
    public func rate(base: Double, step: Int, stepsPerEpoch: Int, epochs: Int) -> Double {
        switch self {
        case .constant:
            return base
        case let .step(every, gamma):
            return base * pow(gamma, Double(step / stepsPerEpoch / every))
        case let .cosine(warmupEpochs):
            let total = stepsPerEpoch * epochs
            let warmup = Int(min((warmupEpochs * Double(stepsPerEpoch)).rounded(), Double(total - 1)))
            if step < warmup { return base * Double(step + 1) / Double(warmup) }
            let t = Double(step - warmup) / Double(max(total - warmup, 1))
            return base * (1 + cos(Double.pi * t)) / 2
        }
    }

    /// Parses `constant`, `step:EVERY:GAMMA` (e.g. `step:30:0.1`) or `cosine[:WARMUP_EPOCHS]`.
    public init(argument: String) throws(TrainingError) {
        let parts = argument.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
        switch parts.first {
        case "constant" where parts.count == 1:
            self = .constant
        case "step" where parts.count == 3:
            guard let every = Int(parts[1]), every > 0, let gamma = Double(parts[2]), gamma > 0, gamma.isFinite else {
                throw TrainingError("--schedule \(argument): expected step:EVERY:GAMMA with EVERY > 0 epochs and GAMMA > 0, e.g. step:30:0.1")
            }
            self = .step(every: every, gamma: gamma)
        case "cosine" where parts.count <= 2:
            let warmup = parts.count == 2 ? Double(parts[1]) : 0
            guard let warmup, warmup >= 0, warmup.isFinite else {
                throw TrainingError("--schedule \(argument): expected cosine or cosine:WARMUP_EPOCHS with a non-negative number")
            }
            self = .cosine(warmupEpochs: warmup)
        default:
            throw TrainingError("--schedule \(argument): expected constant, step:EVERY:GAMMA or cosine[:WARMUP_EPOCHS]")
        }
    }

    public var description: String {
        switch self {
        case .constant: "constant"
        case let .step(every, gamma): "step:\(every):\(gamma)"
        case let .cosine(warmup): "cosine:\(warmup)"
        }
    }
}
