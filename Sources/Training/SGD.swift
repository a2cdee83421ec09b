import LandscapeCore

/// Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay, as PyTorch's
/// `torch.optim.SGD` applies them (dampening 0):
///
///     g = grad + weightDecay * w
///     v = g                      on the first step,   v = momentum * v + g   after
///     d = g + momentum * v       (Nesterov)           d = v                  otherwise
///     w -= lr * d
///
/// Weight decay here acts in the optimizer only: it is not part of the loss whose gradient SAM
/// normalises.
public final class SGD<T: Scalar> {
    public var learningRate: Double
    public let momentum: Double
    public let weightDecay: Double
    public let nesterov: Bool
    private let velocity: Buffer<T>
    private var steps = 0

    public init(parameterCount: Int, learningRate: Double, momentum: Double = 0, weightDecay: Double = 0, nesterov: Bool = false) {
        precondition(!nesterov || momentum > 0, "SGD: Nesterov momentum needs momentum > 0")
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        velocity = Buffer(count: momentum > 0 ? parameterCount : 0)
    }

    /// One update of `parameters` from `gradients` (read, not changed).
    public func step(parameters: ParameterVector<T>, gradients: ParameterVector<T>) {
        let (w, grad) = (parameters.pointer, UnsafePointer(gradients.pointer))
        let (lr, mu, decay) = (T(learningRate), T(momentum), T(weightDecay))
        let first = steps == 0
        steps += 1
        let v = velocity.pointer
        for i in 0..<parameters.count {
            let g = grad[i] + decay * w[i]
            guard mu != 0 else {
                w[i] -= lr * g
                continue
            }
            v[i] = first ? g : mu * v[i] + g
            w[i] -= lr * (nesterov ? g + mu * v[i] : v[i])
        }
    }
}
