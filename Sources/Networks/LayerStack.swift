import LandscapeCore

/// The layer objects of a network bound to its parameters and to one gradient vector, with their
/// buffers and a loss. A network runs one stack per thread, each on its own part of a batch.
final class LayerStack<T: Scalar> {
    let gradients: ParameterVector<T>
    private let layers: [Layer<T>]
    private let criterion = SoftmaxCrossEntropy<T>()

    /// Samples an evaluation pass without backward takes through the layers at a time, in a network
    /// with convolutions: the activations of a few dozen images stay in cache from one layer to the
    /// next, where a whole batch's would stream through memory at every layer. (Batch-norm in
    /// evaluation mode treats every sample alone, so the result is the same up to rounding.) A dense
    /// network's activations are small, and its GEMMs want every row they can get.
    static var evaluationChunk: Int { 32 }
    private let evaluatesInChunks: Bool

    /// Each sample's loss in the last `run`; `lastCount` of them.
    private let losses = Buffer<Double>(count: 0)
    private var lastCount = 0

    init(specs: [LayerSpec], parameters: ParameterVector<T>, gradients: ParameterVector<T>, state: ParameterVector<T>,
         computesInputGradient: Bool, replica: Replica) {
        self.gradients = gradients
        evaluatesInChunks = specs.contains(where: \.isConvolutional)
        var needsGradient = computesInputGradient
        var layers: [Layer<T>] = []
        let workspace = ConvolutionWorkspace<T>()
        for spec in specs {
            // A ReLU after batch-norm is taken in batch-norm's pass (`BatchNorm2d.rectifies`).
            if case .relu = spec, case .batchNorm2d(let norm)? = layers.last {
                norm.rectifies = true
                continue
            }
            layers.append(Layer(spec, parameters: parameters, gradients: gradients, state: state, workspace: workspace,
                                replica: replica, computesInputGradient: needsGradient))
            needsGradient = needsGradient || spec.hasParameters
        }
        self.layers = layers
        // A max-pool after batch-norm (and its ReLU) is taken in batch-norm's pass.
        for (norm, next) in zip(layers, layers.dropFirst()) {
            if case .batchNorm2d(let norm) = norm, case .maxPool2d(let pool) = next { norm.pool = pool }
        }
        // In inference passes a convolution applies the batch-norm after it, and has a max-pool
        // after both pool its output chunk by chunk.
        for (index, layer) in layers.enumerated() {
            guard case .conv2d(let conv) = layer, index + 1 < layers.count, case .batchNorm2d(let norm) = layers[index + 1] else { continue }
            conv.absorb(norm)
            if index + 2 < layers.count, case .maxPool2d(let pool) = layers[index + 2] { conv.poolChunks(with: pool) }
        }
    }

    /// `inference`: an evaluation pass that no backward follows.
    func forward(_ x: Tensor<T>, mode: Mode, inference: Bool = false) -> Tensor<T> {
        var activation = x
        for layer in layers { activation = layer.forward(activation, mode: mode, inference: inference) }
        return activation
    }

    /// Back-propagates into `gradients` (overwriting them); the input gradient, or nil when the
    /// network does not compute it.
    func backward(_ dOutput: Tensor<T>) -> Tensor<T>? {
        var gradient = dOutput
        for layer in layers.reversed() {
            guard let next = layer.backward(gradient) else { return nil }
            gradient = next
        }
        return gradient
    }

    /// Each sample's loss (`sampleLosses`) of a part of `batch` samples and, with `backward`, the
    /// gradient of the whole batch's mean loss restricted to this part; returns how many samples
    /// were classified correctly.
    func run(_ x: Tensor<T>, labels: UnsafePointer<Int32>, smoothing: Double, mode: Mode, batch: Int, backward: Bool) -> Int {
        let n = x.shape.n
        let chunk = backward || mode != .evaluation || !evaluatesInChunks ? n : min(n, Self.evaluationChunk)
        losses.reserve(n)
        lastCount = n
        var correct = 0
        for start in Swift.stride(from: 0, to: n, by: max(chunk, 1)) {
            let count = min(chunk, n - start)
            let part = Tensor(x.pointer + start * x.shape.sampleSize, x.shape.with(n: count))
            let logits = forward(part, mode: mode, inference: !backward && mode == .evaluation)
            correct += criterion.forward(logits, labels: labels + start, smoothing: smoothing, batch: batch, gradient: backward).correct
            (losses.pointer + start).update(from: criterion.sampleLosses.baseAddress!, count: count)
        }
        if backward { _ = self.backward(criterion.backward()) }
        return correct
    }

    /// Each sample's loss in the last `run`, in order.
    var sampleLosses: UnsafeBufferPointer<Double> { UnsafeBufferPointer(start: losses.pointer, count: lastCount) }
}
