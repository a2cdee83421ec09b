import LandscapeCore

/// The layer objects of a network bound to its parameters and to one gradient vector, with their
/// buffers and a loss. A network runs one stack per thread, each on its own part of a batch.
final class LayerStack<T: Scalar> {
    let gradients: ParameterVector<T>
    private let layers: [Layer<T>]
    let criterion = SoftmaxCrossEntropy<T>()

    init(specs: [LayerSpec], parameters: ParameterVector<T>, gradients: ParameterVector<T>, state: ParameterVector<T>,
         computesInputGradient: Bool, replica: Replica) {
        self.gradients = gradients
        var needsGradient = computesInputGradient
        var layers: [Layer<T>] = []
        let workspace = ConvolutionWorkspace<T>()
        for spec in specs {
            layers.append(Layer(spec, parameters: parameters, gradients: gradients, state: state, workspace: workspace,
                                replica: replica, computesInputGradient: needsGradient))
            needsGradient = needsGradient || spec.hasParameters
        }
        self.layers = layers
    }

    func forward(_ x: Tensor<T>, mode: Mode) -> Tensor<T> {
        var activation = x
        for layer in layers { activation = layer.forward(activation, mode: mode) }
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

    /// The loss of a part of `batch` samples and, with `backward`, the gradient of the whole
    /// batch's mean loss restricted to this part.
    func run(_ x: Tensor<T>, labels: UnsafePointer<Int32>, smoothing: Double, mode: Mode, batch: Int, backward: Bool) -> Evaluation {
        let logits = forward(x, mode: mode)
        let (loss, correct) = criterion.forward(logits, labels: labels, smoothing: smoothing, batch: batch)
        if backward { _ = self.backward(criterion.backward()) }
        return Evaluation(loss: loss, correct: correct, count: x.shape.n)
    }
}
