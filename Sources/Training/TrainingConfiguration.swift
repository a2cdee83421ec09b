import Foundation
import Networks

/// Everything that determines a training run: two runs with equal configurations give bit-identical
/// checkpoints, and `--resume` requires the configuration of the run it continues.
public struct TrainingConfiguration: Codable, Equatable, Sendable {
    /// The base optimizer.
    public enum BaseOptimizer: String, Codable, Sendable, CaseIterable { case sgd, adamw }
    /// Plain steps of the base optimizer, or a sharpness-aware wrapper around it.
    public enum Method: String, Codable, Sendable, CaseIterable { case sgd = "none", sam, asam }
    /// Where L2 weight decay acts: in the optimizer's update only (PyTorch's SGD and AdamW), or in
    /// the loss, so that its gradient `wd * w` is part of the gradient SAM normalises (as the
    /// official JAX implementation of SAM does).
    public enum WeightDecayPlacement: String, Codable, Sendable, CaseIterable { case optimizer, loss }

    public var architecture: Architecture
    /// What the data is (a name or a directory), with its subset and augmentation, as given.
    public var data: String
    public var subset: String?
    public var augmentation: String?
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Double
    public var schedule: String
    public var optimizer: BaseOptimizer
    public var method: Method
    public var momentum: Double
    public var nesterov: Bool
    public var weightDecay: Double
    public var weightDecayIn: WeightDecayPlacement
    /// SAM's radius; ASAM's is usually 10 times larger.
    public var rho: Double
    /// ASAM's offset in `T = |w| + eta`.
    public var eta: Double
    /// m-sharpness: sub-batches of `m` samples, each with its own perturbation (nil: the whole batch).
    public var m: Int?
    /// Micro-batches per step whose gradients are accumulated (SAM: a single perturbation from the
    /// accumulated gradient, and the second gradient accumulated at `w + e`).
    public var accumulation: Int
    /// Global-norm clipping of the gradient the base optimizer receives (nil: none).
    public var clipNorm: Double?
    public var labelSmoothing: Double
    public var seed: UInt64

    public init(architecture: Architecture, data: String = "fashion-mnist", subset: String? = nil, augmentation: String? = nil,
                epochs: Int = 1, batchSize: Int = 128, learningRate: Double = 0.05, schedule: String = "constant",
                optimizer: BaseOptimizer = .sgd, method: Method = .sgd, momentum: Double = 0.9, nesterov: Bool = false,
                weightDecay: Double = 5e-4, weightDecayIn: WeightDecayPlacement = .optimizer, rho: Double = 0.05, eta: Double = 0.01,
                m: Int? = nil, accumulation: Int = 1, clipNorm: Double? = nil, labelSmoothing: Double = 0, seed: UInt64 = 0) {
        self.architecture = architecture
        self.data = data
        self.subset = subset
        self.augmentation = augmentation
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.schedule = schedule
        self.optimizer = optimizer
        self.method = method
        self.momentum = momentum
        self.nesterov = nesterov
        self.weightDecay = weightDecay
        self.weightDecayIn = weightDecayIn
        self.rho = rho
        self.eta = eta
        self.m = m
        self.accumulation = accumulation
        self.clipNorm = clipNorm
        self.labelSmoothing = labelSmoothing
        self.seed = seed
    }

    /// Checks what a user can get wrong, naming the option.
    public func validate() throws(TrainingError) {
        guard epochs > 0 else { throw TrainingError("--epochs must be positive, got \(epochs)") }
        guard batchSize > 1 else { throw TrainingError("--batch-size must be at least 2, got \(batchSize)") }
        guard learningRate > 0, learningRate.isFinite else { throw TrainingError("--lr must be positive, got \(learningRate)") }
        _ = try LearningRateSchedule(argument: schedule)
        guard momentum >= 0, momentum < 1 else { throw TrainingError("--momentum must be in [0, 1), got \(momentum)") }
        guard weightDecay >= 0, weightDecay.isFinite else { throw TrainingError("--weight-decay must not be negative, got \(weightDecay)") }
        guard !nesterov || (momentum > 0 && optimizer == .sgd) else { throw TrainingError("--nesterov needs the sgd base optimizer and --momentum > 0") }
        guard rho >= 0, rho.isFinite else { throw TrainingError("--rho must not be negative, got \(rho)") }
        guard eta >= 0, eta.isFinite else { throw TrainingError("--eta must not be negative, got \(eta)") }
        guard labelSmoothing >= 0, labelSmoothing < 1 else { throw TrainingError("--label-smoothing must be in [0, 1), got \(labelSmoothing)") }
        guard accumulation >= 1, accumulation <= batchSize / 2 else {
            throw TrainingError("--accumulation must be between 1 and half the batch size (\(batchSize / 2)), got \(accumulation)")
        }
        if let m {
            guard method != .sgd else { throw TrainingError("--m applies to --method sam or asam") }
            guard m >= 2, m <= batchSize else { throw TrainingError("--m must be between 2 and the batch size \(batchSize), got \(m)") }
            guard accumulation == 1 else { throw TrainingError("--m and --accumulation cannot be combined: m-sharpness already splits the batch") }
        }
        if let clipNorm { guard clipNorm > 0 else { throw TrainingError("--clip-norm must be positive, got \(clipNorm)") } }
    }

    /// The configuration as canonical JSON (sorted keys).
    public var json: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: (try? encoder.encode(self)) ?? Data(), as: UTF8.self)
    }
}

/// A problem with a training run that the user can fix.
public struct TrainingError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

extension Architecture: Codable {
    /// Encoded as its checkpoint JSON string.
    public init(from decoder: any Decoder) throws {
        let json = try decoder.singleValueContainer().decode(String.self)
        try self.init(json: json, source: "configuration")
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(json)
    }
}
