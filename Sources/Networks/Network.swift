import LandscapeCore

/// The loss and accuracy of a batch or a data set.
public struct Evaluation: Sendable, Equatable {
    /// Mean loss per sample.
    public var loss: Double
    public var correct: Int
    public var count: Int

    public init(loss: Double, correct: Int, count: Int) {
        self.loss = loss
        self.correct = correct
        self.count = count
    }

    /// Percent of samples classified correctly.
    public var accuracy: Double { count == 0 ? 0 : 100 * Double(correct) / Double(count) }

    /// The evaluation of two disjoint sets together (losses weighted by their counts).
    public func merged(with other: Evaluation) -> Evaluation {
        let count = count + other.count
        let loss = count == 0 ? 0 : (loss * Double(self.count) + other.loss * Double(other.count)) / Double(count)
        return Evaluation(loss: loss, correct: correct + other.correct, count: count)
    }
}

/// A network of the zoo with its parameter vector, gradient vector and batch-norm state, and the
/// layer objects bound to them.
///
/// The network owns all memory its layers use; after the first training step at the largest batch
/// size, forward and backward allocate nothing.
public final class Network<T: Scalar> {
    /// The zoo model this is, when it is one (a checkpoint records it).
    public let architecture: Architecture?
    /// All trainable tensors, PyTorch names and shapes, in one vector.
    public let parameters: ParameterVector<T>
    /// Gradients of the loss in the layout of `parameters`; `backward` overwrites them.
    public let gradients: ParameterVector<T>
    /// Batch-norm running means and variances.
    public let state: ParameterVector<T>
    /// PyTorch's `num_batches_tracked`: training passes that updated the running statistics.
    public var batchesTracked = 0
    /// The shape of one input sample (`n` is 1).
    public let inputShape: Shape

    /// The layers as values, and whether the input gradient is computed: enough to build a copy.
    public let specs: [LayerSpec]
    private let computesInputGradient: Bool
    private let layers: [Layer<T>]
    private let criterion = SoftmaxCrossEntropy<T>()
    private let hasBatchNorm: Bool

    /// A zoo model with all tensors zero; call `initialize(seed:)` or load a checkpoint.
    public convenience init(_ architecture: Architecture) {
        self.init(layers: architecture.layers,
                  inputShape: Shape(n: 1, height: architecture.side, width: architecture.side, channels: architecture.channels),
                  architecture: architecture)
    }

    /// Any stack of layers over inputs of `inputShape` (its `n` is ignored). With
    /// `computesInputGradient`, `backward` also returns the gradient with respect to the input.
    public init(layers specs: [LayerSpec], inputShape: Shape, computesInputGradient: Bool = false, architecture: Architecture? = nil) {
        self.architecture = architecture
        self.specs = specs
        self.computesInputGradient = computesInputGradient
        self.inputShape = inputShape.with(n: 1)
        var parameterLayout = ParameterLayout()
        var stateLayout = ParameterLayout()
        for spec in specs { spec.register(parameters: &parameterLayout, state: &stateLayout) }
        parameters = ParameterVector(layout: parameterLayout)
        gradients = ParameterVector(layout: parameterLayout)
        state = ParameterVector(layout: stateLayout)
        hasBatchNorm = stateLayout.count > 0
        var needsGradient = computesInputGradient
        var layers: [Layer<T>] = []
        let workspace = ConvolutionWorkspace<T>()
        for spec in specs {
            layers.append(Layer(spec, parameters: parameters, gradients: gradients, state: state, workspace: workspace,
                                computesInputGradient: needsGradient))
            needsGradient = needsGradient || spec.hasParameters
        }
        self.layers = layers
    }

    /// An independent network with the same layers, parameters, statistics and batch count (for
    /// evaluating on several threads at once).
    public func copy() -> Network<T> {
        let copy = Network(layers: specs, inputShape: inputShape, computesInputGradient: computesInputGradient, architecture: architecture)
        copy.parameters.copy(from: parameters)
        copy.state.copy(from: state)
        copy.batchesTracked = batchesTracked
        return copy
    }

    /// The model's name for messages.
    public var name: String { architecture?.name ?? "custom network" }

    /// PyTorch's default initialisation (see `Initialization.pytorchDefault`), drawn from a seeded
    /// generator in layout order; running means 0 and variances 1.
    public func initialize(seed: UInt64) {
        var generator = RandomGenerator(seed: seed)
        parameters.initialize(using: &generator)
        state.initialize(using: &generator)
        batchesTracked = 0
    }

    /// Sizes the forward buffers for batches of up to `batch` samples with one evaluation pass over
    /// zeros, which touches neither parameters nor running statistics. (Backward sizes its own
    /// buffers on its first call.)
    public func reserve(batch: Int) {
        let input = Buffer<T>(count: inputShape.with(n: batch).count)
        _ = forward(Tensor(input, inputShape.with(n: batch)), mode: .evaluation)
    }

    /// The logits of a batch of images (`n x side x side x channels`, channels-last).
    public func forward(_ x: Tensor<T>, mode: Mode) -> Tensor<T> {
        precondition(x.shape.with(n: 1) == inputShape, "Network \(name): input shape \(x.shape), expected \(inputShape.with(n: x.shape.n))")
        if mode == .train && hasBatchNorm { batchesTracked += 1 }
        var activation = x
        for layer in layers { activation = layer.forward(activation, mode: mode) }
        return activation
    }

    /// Back-propagates the gradient of the loss with respect to the output of the last forward pass
    /// into `gradients`; returns the gradient with respect to the input when the network was built
    /// to compute it.
    @discardableResult
    public func backward(_ dOutput: Tensor<T>) -> Tensor<T>? {
        var gradient = dOutput
        for layer in layers.reversed() {
            guard let next = layer.backward(gradient) else { return nil }
            gradient = next
        }
        return gradient
    }

    /// Forward, loss and backward for one batch; `gradients` then hold the gradient of the batch's
    /// mean loss.
    @discardableResult
    public func lossAndGradient(_ x: Tensor<T>, labels: UnsafePointer<Int32>, smoothing: Double = 0, mode: Mode = .train) -> Evaluation {
        let logits = forward(x, mode: mode)
        let (loss, correct) = criterion.forward(logits, labels: labels, smoothing: smoothing)
        backward(criterion.backward())
        return Evaluation(loss: loss, correct: correct, count: x.shape.n)
    }

    /// The loss and accuracy of one batch, without gradients.
    public func loss(_ x: Tensor<T>, labels: UnsafePointer<Int32>, smoothing: Double = 0, mode: Mode = .evaluation) -> Evaluation {
        let logits = forward(x, mode: mode)
        let (loss, correct) = criterion.forward(logits, labels: labels, smoothing: smoothing)
        return Evaluation(loss: loss, correct: correct, count: x.shape.n)
    }
}
