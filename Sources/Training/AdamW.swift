import Foundation
import LandscapeCore

/// Adam with decoupled weight decay (Loshchilov and Hutter 2019), as PyTorch's `torch.optim.AdamW`:
///
///     w -= lr * weightDecay * w
///     m = beta1 * m + (1 - beta1) * g,    v = beta2 * v + (1 - beta2) * g^2
///     w -= lr * (m / (1 - beta1^t)) / (sqrt(v / (1 - beta2^t)) + epsilon)
public final class AdamW: Optimizer {
    public var learningRate: Double
    public let beta1: Double, beta2: Double, epsilon: Double, weightDecay: Double
    public private(set) var steps = 0
    private let firstMoment: Buffer<Float>, secondMoment: Buffer<Float>
    private let count: Int

    public init(parameterCount: Int, learningRate: Double, beta1: Double = 0.9, beta2: Double = 0.999,
                epsilon: Double = 1e-8, weightDecay: Double = 0.01) {
        self.learningRate = learningRate
        self.beta1 = beta1
        self.beta2 = beta2
        self.epsilon = epsilon
        self.weightDecay = weightDecay
        count = parameterCount
        firstMoment = Buffer(count: parameterCount)
        secondMoment = Buffer(count: parameterCount)
    }

    public func beginStep() { steps += 1 }

    public func update(_ range: Range<Int>, parameters: ParameterVector<Float>, gradients: ParameterVector<Float>) {
        precondition(parameters.count == count && gradients.count == count, "AdamW: vectors of \(parameters.count) and \(gradients.count) for \(count) parameters")
        let (w, g, m, v) = (parameters.pointer, UnsafePointer(gradients.pointer), firstMoment.pointer, secondMoment.pointer)
        // The coefficients are formed in Double, as PyTorch does: 1 - Float(0.999) is 1.3e-5 off.
        let (b1, b2, c1, c2) = (Float(beta1), Float(beta2), Float(1 - beta1), Float(1 - beta2))
        let correction1 = Float(1 - pow(beta1, Double(steps)))
        let correction2Root = Float((1 - pow(beta2, Double(steps))).squareRoot())
        let (lr, decay, eps) = (Float(learningRate), Float(1 - learningRate * weightDecay), Float(epsilon))
        for i in range {
            w[i] *= decay
            m[i] = b1 * m[i] + c1 * g[i]
            v[i] = b2 * v[i] + c2 * g[i] * g[i]
            w[i] -= lr * (m[i] / correction1) / (v[i].squareRoot() / correction2Root + eps)
        }
    }

    public func state() -> [SafeTensorsTensor] {
        [
            SafeTensorsTensor(name: "steps", shape: [], integers: [Int64(steps)]),
            SafeTensorsTensor(name: "exp_avg", shape: [count], floats: Array(firstMoment.elements(count))),
            SafeTensorsTensor(name: "exp_avg_sq", shape: [count], floats: Array(secondMoment.elements(count))),
        ]
    }

    public func restore(_ file: SafeTensorsFile) throws(FileError) {
        try restoreVector("exp_avg", from: file, into: firstMoment, count: count)
        try restoreVector("exp_avg_sq", from: file, into: secondMoment, count: count)
        steps = try restoreSteps(from: file)
    }

    public var json: String {
        #"{"name":"adamw","lr":\#(learningRate),"beta1":\#(beta1),"beta2":\#(beta2),"eps":\#(epsilon),"weight_decay":\#(weightDecay)}"#
    }
}
