import LandscapeCore
import Networks

/// The settings of a training run.
public struct TrainingConfiguration: Sendable {
    public var architecture: Architecture
    public var epochs: Int
    public var batchSize: Int
    public var learningRate: Double
    public var momentum: Double
    public var weightDecay: Double
    public var nesterov: Bool
    public var labelSmoothing: Double
    public var seed: UInt64

    public init(architecture: Architecture, epochs: Int = 1, batchSize: Int = 128, learningRate: Double = 0.05,
                momentum: Double = 0.9, weightDecay: Double = 5e-4, nesterov: Bool = false,
                labelSmoothing: Double = 0, seed: UInt64 = 0) {
        self.architecture = architecture
        self.epochs = epochs
        self.batchSize = batchSize
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        self.labelSmoothing = labelSmoothing
        self.seed = seed
    }

    /// Checks what a user can get wrong, naming the option.
    public func validate() throws(TrainingError) {
        guard epochs > 0 else { throw TrainingError("--epochs must be positive, got \(epochs)") }
        guard batchSize > 1 else { throw TrainingError("--batch-size must be at least 2, got \(batchSize)") }
        guard learningRate > 0, learningRate.isFinite else { throw TrainingError("--lr must be positive, got \(learningRate)") }
        guard momentum >= 0, momentum < 1 else { throw TrainingError("--momentum must be in [0, 1), got \(momentum)") }
        guard weightDecay >= 0 else { throw TrainingError("--weight-decay must not be negative, got \(weightDecay)") }
        guard !nesterov || momentum > 0 else { throw TrainingError("--nesterov needs --momentum > 0") }
        guard labelSmoothing >= 0, labelSmoothing < 1 else { throw TrainingError("--label-smoothing must be in [0, 1), got \(labelSmoothing)") }
    }
}

/// A problem with a training run that the user can fix.
public struct TrainingError: Error, CustomStringConvertible, Equatable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Trains a network with SGD on a data set: one object owning the network, the optimizer and the
/// batches for the run's lifetime.
public final class Trainer {
    public let configuration: TrainingConfiguration
    public let network: Network<Float>
    public let optimizer: SGD<Float>
    public let loader: BatchLoader
    /// Optimizer steps taken.
    public private(set) var step = 0

    /// A fresh network initialised from the seed, for `train` data whose images fit the model.
    public init(_ configuration: TrainingConfiguration, train: Dataset) throws(TrainingError) {
        try configuration.validate()
        let architecture = configuration.architecture
        guard train.height == architecture.side, train.width == architecture.side, train.channels == architecture.channels,
              train.classes <= architecture.classes else {
            throw TrainingError("data \(train.name) has \(train.height)x\(train.width)x\(train.channels) images and \(train.classes) classes; model \(architecture.name) expects \(architecture.side)x\(architecture.side)x\(architecture.channels) and \(architecture.classes)")
        }
        self.configuration = configuration
        network = Network(architecture)
        network.initialize(seed: configuration.seed)
        network.reserve(batch: configuration.batchSize)
        optimizer = SGD(parameterCount: network.parameters.count, learningRate: configuration.learningRate,
                        momentum: configuration.momentum, weightDecay: configuration.weightDecay, nesterov: configuration.nesterov)
        loader = BatchLoader(train, batchSize: configuration.batchSize, seed: configuration.seed)
    }

    /// One pass over the training data (epochs count from 0). `progress` is called after every
    /// step with the batch index and the running loss and accuracy of the epoch.
    public func trainEpoch(_ epoch: Int, progress: (Int, Evaluation) -> Void = { _, _ in }) throws(TrainingError) -> Evaluation {
        loader.startEpoch(epoch)
        var total = Evaluation(loss: 0, correct: 0, count: 0)
        for index in 0..<loader.batchCount {
            let (images, labels) = loader.batch(index)
            let batch = network.lossAndGradient(images, labels: labels, smoothing: configuration.labelSmoothing)
            guard batch.loss.isFinite else {
                throw TrainingError("loss became \(batch.loss) at step \(step + 1) (epoch \(epoch + 1), batch \(index + 1)); lower --lr")
            }
            optimizer.step(parameters: network.parameters, gradients: network.gradients)
            step += 1
            total = total.merged(with: batch)
            progress(index, total)
        }
        return total
    }
}
