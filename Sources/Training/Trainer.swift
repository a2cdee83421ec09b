import LandscapeCore
import Networks

/// What one epoch of training measured.
public struct EpochSummary: Codable, Equatable, Sendable {
    /// Counted from 1.
    public var epoch: Int
    public var trainLoss: Double
    public var trainAccuracy: Double
    public var testLoss: Double?
    public var testAccuracy: Double?
    /// The learning rate of the epoch's last step.
    public var learningRate: Double
    /// Mean over steps of the gradient norm at `w` (before clipping; for ASAM `||T g||`; for
    /// m-sharpness the mean over sub-batches).
    public var gradientNorm: Double
    /// Mean over steps of the loss at `w + e` (SAM and ASAM only).
    public var perturbedLoss: Double?
    public var seconds: Double

    enum CodingKeys: String, CodingKey {
        case epoch, trainLoss = "train_loss", trainAccuracy = "train_accuracy", testLoss = "test_loss"
        case testAccuracy = "test_accuracy", learningRate = "lr", gradientNorm = "grad_norm"
        case perturbedLoss = "perturbed_loss", seconds
    }
}

/// Trains a network on a data set with the configured optimizer: one object owning the network,
/// the optimizer and the batches for the run's lifetime.
///
/// A step splits its batch into chunks when asked: `accumulation` micro-batches whose gradients are
/// averaged (weighted by size, so the result is the batch's mean gradient), or, for m-sharpness,
/// sub-batches of `m` samples that each get their own SAM perturbation (Foret et al. 2021, sec. 4.1).
public final class Trainer {
    public let configuration: TrainingConfiguration
    public let network: Network<Float>
    public let optimizer: any Optimizer
    public let sam: SAM?
    public let loader: BatchLoader
    public let schedule: LearningRateSchedule
    /// Optimizer steps taken.
    public var step: Int { optimizer.steps }

    /// The sum over chunks of their weighted gradients.
    private let accumulated: ParameterVector<Float>

    /// A fresh network initialised from the seed, for `train` data whose images fit the model.
    public init(_ configuration: TrainingConfiguration, train: Dataset, augmentation: Augmentation = .none) throws(TrainingError) {
        try configuration.validate()
        let architecture = configuration.architecture
        guard train.height == architecture.side, train.width == architecture.side, train.channels == architecture.channels,
              train.classes <= architecture.classes else {
            throw TrainingError("data \(train.name) has \(train.height)x\(train.width)x\(train.channels) images and \(train.classes) classes; model \(architecture.name) expects \(architecture.side)x\(architecture.side)x\(architecture.channels) and \(architecture.classes)")
        }
        guard train.count >= configuration.batchSize else {
            throw TrainingError("data \(train.name) has \(train.count) samples, fewer than one batch of \(configuration.batchSize)")
        }
        self.configuration = configuration
        schedule = try LearningRateSchedule(argument: configuration.schedule)
        network = Network(architecture)
        network.initialize(seed: configuration.seed)
        network.reserve(batch: configuration.batchSize)
        let count = network.parameters.count
        let decay = configuration.weightDecayIn == .optimizer ? configuration.weightDecay : 0
        switch configuration.optimizer {
        case .sgd:
            optimizer = SGD(parameterCount: count, learningRate: configuration.learningRate, momentum: configuration.momentum,
                            weightDecay: decay, nesterov: configuration.nesterov)
        case .adamw:
            optimizer = AdamW(parameterCount: count, learningRate: configuration.learningRate, weightDecay: decay)
        }
        switch configuration.method {
        case .sgd: sam = nil
        case .sam: sam = SAM(base: optimizer, parameterCount: count, rho: configuration.rho)
        case .asam: sam = SAM(base: optimizer, parameterCount: count, rho: configuration.rho, adaptive: true, eta: configuration.eta)
        }
        accumulated = ParameterVector(layout: network.parameters.layout)
        loader = BatchLoader(train, batchSize: configuration.batchSize, seed: configuration.seed, augmentation: augmentation)
    }

    /// Totals of one epoch so far.
    public struct Running: Sendable {
        public var train = Evaluation(loss: 0, correct: 0, count: 0)
        public var gradientNormSum = 0.0
        public var perturbedLossSum = 0.0
        public var steps = 0
    }

    /// One pass over the training data (epochs count from 0). `progress` is called after every
    /// step with the batch index and the totals so far. A non-finite loss stops with an error
    /// naming the step, before the optimizer moves.
    public func trainEpoch(_ epoch: Int, progress: (Int, Running) -> Void = { _, _ in }) throws(TrainingError) -> EpochSummary {
        loader.startEpoch(epoch)
        var running = Running()
        let clock = ContinuousClock.now
        for index in 0..<loader.batchCount {
            optimizer.learningRate = schedule.rate(base: configuration.learningRate, step: step,
                                                   stepsPerEpoch: loader.batchCount, epochs: configuration.epochs)
            let (images, labels) = loader.batch(index, on: network)
            let result = try trainStep(images, labels: labels, label: "step \(step + 1) (epoch \(epoch + 1), batch \(index + 1))")
            running.train = running.train.merged(with: result.evaluation)
            running.gradientNormSum += result.gradientNorm
            running.perturbedLossSum += result.perturbedLoss ?? 0
            running.steps += 1
            progress(index, running)
        }
        return EpochSummary(
            epoch: epoch + 1, trainLoss: running.train.loss, trainAccuracy: running.train.accuracy,
            learningRate: optimizer.learningRate, gradientNorm: running.gradientNormSum / Double(running.steps),
            perturbedLoss: sam == nil ? nil : running.perturbedLossSum / Double(running.steps),
            seconds: WallClock.seconds(since: clock))
    }

    /// One optimizer step on a batch: the loss and accuracy at `w`, the gradient norm and, for SAM,
    /// the loss at `w + e`.
    public func trainStep(_ images: Tensor<Float>, labels: UnsafePointer<Int32>, label: String = "step")
        throws(TrainingError) -> (evaluation: Evaluation, gradientNorm: Double, perturbedLoss: Double?) {
        let chunks = self.chunks(of: images.shape.n)
        let (parameters, gradients) = (network.parameters, network.gradients)
        var evaluation = Evaluation(loss: 0, correct: 0, count: 0)
        var perturbed = Evaluation(loss: 0, correct: 0, count: 0)
        var gradientNorm = 0.0
        // The gradient the base optimizer receives: the network's own when there is one chunk.
        let final = chunks.count == 1 ? gradients : accumulated
        // The step rides on the last pass when nothing comes between the gradient and the step
        // (`Optimizer.step(_:_:labels:)`): one chunk, no decay added to the loss, no clipping.
        let fuses = (sam == nil || configuration.m == nil) && chunks.count == 1 && configuration.clipNorm == nil
            && !(configuration.weightDecayIn == .loss && configuration.weightDecay > 0)

        func gradient(_ chunk: Range<Int>, _ pass: SAM.Pass) -> Evaluation {
            let size = images.shape.sampleSize
            let x = Tensor(images.pointer + chunk.lowerBound * size, images.shape.with(n: chunk.count))
            let result = network.lossAndGradient(x, labels: labels + chunk.lowerBound, smoothing: configuration.labelSmoothing, mode: pass.mode)
            if configuration.weightDecayIn == .loss && configuration.weightDecay > 0 {
                Float.axpy(count: parameters.count, alpha: Float(configuration.weightDecay), x: parameters.pointer, y: gradients.pointer)
            }
            return result
        }
        func accumulate(_ chunk: Range<Int>) {
            if chunks.count > 1 {
                Float.axpy(count: parameters.count, alpha: Float(chunk.count) / Float(images.shape.n), x: gradients.pointer, y: accumulated.pointer)
            }
        }
        // The batch's gradient at the current weights, over all chunks, into `final`.
        func batchGradient(_ pass: SAM.Pass) -> Evaluation {
            if chunks.count > 1 { accumulated.elements.update(repeating: 0) }
            var total = Evaluation(loss: 0, correct: 0, count: 0)
            for chunk in chunks {
                total = total.merged(with: gradient(chunk, pass))
                accumulate(chunk)
            }
            return total
        }

        if let sam, configuration.m != nil {
            accumulated.elements.update(repeating: 0)
            for chunk in chunks {
                evaluation = evaluation.merged(with: gradient(chunk, .original))
                gradientNorm += sam.firstStep(parameters: parameters, gradients: gradients, on: network) / Double(chunks.count)
                perturbed = perturbed.merged(with: gradient(chunk, .perturbed))
                sam.restore(parameters: parameters, on: network)
                Float.axpy(count: parameters.count, alpha: Float(chunk.count) / Float(images.shape.n), x: gradients.pointer, y: accumulated.pointer)
            }
        } else if let sam {
            evaluation = batchGradient(.original)
            gradientNorm = sam.firstStep(parameters: parameters, gradients: final, on: network)
            if fuses {
                perturbed = sam.secondStep(network, images, labels: labels, smoothing: configuration.labelSmoothing)
            } else {
                perturbed = batchGradient(.perturbed)
                sam.restore(parameters: parameters, on: network)
            }
        } else if fuses {
            evaluation = optimizer.step(network, images, labels: labels, smoothing: configuration.labelSmoothing)
            gradientNorm = final.norm()
        } else {
            evaluation = batchGradient(.original)
            gradientNorm = final.norm()
        }
        guard evaluation.loss.isFinite, perturbed.loss.isFinite else {
            throw TrainingError("loss became \(evaluation.loss.isFinite ? perturbed.loss : evaluation.loss) at \(label); lower --lr (the last checkpoint is kept)")
        }
        guard !fuses else { return (evaluation, gradientNorm, sam == nil ? nil : perturbed.loss) }
        if let clip = configuration.clipNorm {
            let norm = final.norm()
            if norm > clip { Float.scale(count: final.count, alpha: Float(clip / norm), x: final.pointer) }
        }
        optimizer.step(parameters: parameters, gradients: final, on: network)
        return (evaluation, gradientNorm, sam == nil ? nil : perturbed.loss)
    }

    /// The sample ranges of a batch of `n`: one, `accumulation` micro-batches, or sub-batches of m.
    func chunks(of n: Int) -> [Range<Int>] {
        let size = configuration.m ?? (n + configuration.accumulation - 1) / configuration.accumulation
        return stride(from: 0, to: n, by: size).map { $0..<min($0 + size, n) }
    }
}
