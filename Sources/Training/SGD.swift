import LandscapeCore

/// Stochastic gradient descent with momentum, Nesterov momentum and L2 weight decay, as PyTorch's
/// `torch.optim.SGD` applies them (dampening 0):
///
///     g = grad + weightDecay * w
///     v = g                      on the first step,   v = momentum * v + g   after
///     d = g + momentum * v       (Nesterov)           d = v                  otherwise
///     w -= lr * d
public final class SGD: Optimizer {
    public var learningRate: Double
    public let momentum: Double
    public let weightDecay: Double
    public let nesterov: Bool
    public private(set) var steps = 0
    private let velocity: Buffer<Float>
    private let count: Int

    public init(parameterCount: Int, learningRate: Double, momentum: Double = 0, weightDecay: Double = 0, nesterov: Bool = false) {
        precondition(!nesterov || momentum > 0, "SGD: Nesterov momentum needs momentum > 0")
        self.learningRate = learningRate
        self.momentum = momentum
        self.weightDecay = weightDecay
        self.nesterov = nesterov
        count = parameterCount
        velocity = Buffer(count: momentum > 0 ? parameterCount : 0)
    }

    public func beginStep() { steps += 1 }

    public func update(_ range: Range<Int>, parameters: ParameterVector<Float>, gradients: ParameterVector<Float>) {
        precondition(parameters.count == count && gradients.count == count, "SGD: vectors of \(parameters.count) and \(gradients.count) for \(count) parameters")
        let (w, grad, v) = (parameters.pointer, UnsafePointer(gradients.pointer), velocity.pointer)
        // The first step (the count includes the current one) sets the velocity to the gradient.
        let (lr, mu, decay, first) = (Float(learningRate), Float(momentum), Float(weightDecay), steps == 1)
        if mu == 0 {
            for i in range { w[i] -= lr * (grad[i] + decay * w[i]) }
            return
        }
        // One loop per case, so each is a plain vector loop.
        switch (first, nesterov) {
        case (true, false):
            for i in range {
                let g = grad[i] + decay * w[i]
                v[i] = g
                w[i] -= lr * g
            }
        case (false, false):
            for i in range {
                let velocity = mu * v[i] + (grad[i] + decay * w[i])
                v[i] = velocity
                w[i] -= lr * velocity
            }
        case (_, true):
            for i in range {
                let g = grad[i] + decay * w[i]
                let velocity = first ? g : mu * v[i] + g
                v[i] = velocity
                w[i] -= lr * (g + mu * velocity)
            }
        }
    }

    public func state() -> [SafeTensorsTensor] {
        var tensors = [SafeTensorsTensor(name: "steps", shape: [], integers: [Int64(steps)])]
        if momentum > 0 {
            tensors.append(SafeTensorsTensor(name: "momentum_buffer", shape: [count], floats: Array(velocity.elements(count))))
        }
        return tensors
    }

    public func restore(_ file: SafeTensorsFile) throws(FileError) {
        if momentum > 0 { try restoreVector("momentum_buffer", from: file, into: velocity, count: count) }
        steps = try restoreSteps(from: file)
    }

    public var json: String {
        #"{"name":"sgd","lr":\#(learningRate),"momentum":\#(momentum),"nesterov":\#(nesterov),"weight_decay":\#(weightDecay)}"#
    }
}
