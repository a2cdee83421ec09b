import LandscapeCore
import Testing
import Training

/// The optimizer's update rules, `torch.optim.SGD`'s with dampening 0, against values worked out by
/// hand. Every number is a dyadic fraction with few significant bits, so the Float arithmetic is
/// exact and the results can be compared with `==`.
struct SGDTests {
    static let initial: [Float] = [1, -2, 4]
    static let firstGradient: [Float] = [0.5, 1, -2]
    static let secondGradient: [Float] = [1, 0, 1]

    /// A 3-element parameter vector holding `values` and a gradient vector of the same layout.
    static func vectors(_ values: [Float]) -> (ParameterVector<Float>, ParameterVector<Float>) {
        var layout = ParameterLayout()
        layout.append("w", shape: [3], role: .weight, initialization: .constant(0))
        let parameters = ParameterVector<Float>(layout: layout)
        for (i, value) in values.enumerated() { parameters.pointer[i] = value }
        return (parameters, ParameterVector<Float>(layout: layout))
    }

    /// The weights after each of two steps, the first with `firstGradient`, the second with `secondGradient`.
    static func twoSteps(momentum: Double = 0, weightDecay: Double = 0, nesterov: Bool = false) -> [[Float]] {
        let (parameters, gradients) = vectors(initial)
        let sgd = SGD(parameterCount: 3, learningRate: 0.5, momentum: momentum, weightDecay: weightDecay, nesterov: nesterov)
        var trajectory: [[Float]] = []
        for gradient in [firstGradient, secondGradient] {
            for (i, g) in gradient.enumerated() { gradients.pointer[i] = g }
            sgd.step(parameters: parameters, gradients: gradients)
            #expect(Array(gradients.elements) == gradient, "step must not change the gradients")
            trajectory.append(Array(parameters.elements))
        }
        return trajectory
    }

    @Test("plain SGD: w -= lr * g")
    func plain() {
        // [1, -2, 4] - 0.5 [0.5, 1, -2], then - 0.5 [1, 0, 1].
        #expect(Self.twoSteps() == [[0.75, -2.5, 5], [0.25, -2.5, 4.5]])
    }

    @Test("weight decay adds weightDecay * w to the gradient")
    func weightDecay() {
        // g = [0.5, 1, -2] + 0.25 [1, -2, 4] = [0.75, 0.5, -1]; w = [1, -2, 4] - 0.5 g.
        // Then g = [1, 0, 1] + 0.25 [0.625, -2.25, 4.5] = [1.15625, -0.5625, 2.125].
        #expect(Self.twoSteps(weightDecay: 0.25) == [[0.625, -2.25, 4.5], [0.046875, -1.96875, 3.4375]])
    }

    @Test("momentum: v = g on the first step, then v = momentum * v + g")
    func momentum() {
        // v = [0.5, 1, -2], w = [0.75, -2.5, 5]; v = 0.5 v + [1, 0, 1] = [1.25, 0.5, 0], w -= 0.5 v.
        #expect(Self.twoSteps(momentum: 0.5) == [[0.75, -2.5, 5], [0.125, -2.75, 5]])
    }

    @Test("Nesterov: the step is g + momentum * v")
    func nesterov() {
        // v = g, d = 1.5 g = [0.75, 1.5, -3], w = [0.625, -2.75, 5.5];
        // v = [1.25, 0.5, 0], d = [1, 0, 1] + 0.5 v = [1.625, 0.25, 1], w -= 0.5 d.
        #expect(Self.twoSteps(momentum: 0.5, nesterov: true) == [[0.625, -2.75, 5.5], [-0.1875, -2.875, 5]])
    }

    @Test("momentum and weight decay together: the decayed gradient enters the velocity")
    func momentumWithWeightDecay() {
        // g = [0.75, 0.5, -1] = v, w = [0.625, -2.25, 4.5]; g = [1.15625, -0.5625, 2.125],
        // v = 0.5 [0.75, 0.5, -1] + g = [1.53125, -0.3125, 1.625], w -= 0.5 v.
        #expect(Self.twoSteps(momentum: 0.5, weightDecay: 0.25) == [[0.625, -2.25, 4.5], [-0.140625, -2.09375, 3.6875]])
    }

    @Test("Nesterov with weight decay")
    func nesterovWithWeightDecay() {
        #expect(Self.twoSteps(momentum: 0.5, weightDecay: 0.25, nesterov: true)
            == [[0.4375, -2.375, 4.75], [-0.48828125, -1.9921875, 3.234375]])
    }

    @Test("a zero gradient with momentum keeps moving by the velocity")
    func coasting() {
        let (parameters, gradients) = Self.vectors([0, 0, 0])
        let sgd = SGD(parameterCount: 3, learningRate: 1, momentum: 0.5)
        gradients.pointer[0] = 1
        sgd.step(parameters: parameters, gradients: gradients)
        #expect(parameters.pointer[0] == -1)
        gradients.pointer[0] = 0
        sgd.step(parameters: parameters, gradients: gradients)
        #expect(parameters.pointer[0] == -1.5)
        sgd.step(parameters: parameters, gradients: gradients)
        #expect(parameters.pointer[0] == -1.75)
        #expect(parameters.pointer[1] == 0 && parameters.pointer[2] == 0)
    }

    @Test("the learning rate can change between steps")
    func learningRateSchedule() {
        let (parameters, gradients) = Self.vectors([1, 1, 1])
        let sgd = SGD(parameterCount: 3, learningRate: 0.5)
        gradients.elements.update(repeating: 1)
        sgd.step(parameters: parameters, gradients: gradients)
        sgd.learningRate = 0.25
        sgd.step(parameters: parameters, gradients: gradients)
        #expect(Array(parameters.elements) == [0.25, 0.25, 0.25])
    }

    @Test("with rates that are not exact in binary, the steps agree with the rule in Double to rounding")
    func roundedRates() {
        let (parameters, gradients) = Self.vectors(Self.initial)
        let sgd = SGD(parameterCount: 3, learningRate: 0.1, momentum: 0.9, weightDecay: 5e-4)
        for gradient in [Self.firstGradient, Self.secondGradient] {
            for (i, g) in gradient.enumerated() { gradients.pointer[i] = g }
            sgd.step(parameters: parameters, gradients: gradients)
        }
        // The same two steps in Double.
        var w = Self.initial.map(Double.init)
        var v = [0.0, 0, 0]
        for (step, gradient) in [Self.firstGradient, Self.secondGradient].enumerated() {
            for i in 0..<3 {
                let g = Double(gradient[i]) + 5e-4 * w[i]
                v[i] = step == 0 ? g : 0.9 * v[i] + g
                w[i] -= 0.1 * v[i]
            }
        }
        for i in 0..<3 {
            #expect(abs(Double(parameters.pointer[i]) - w[i]) <= 1e-6 * max(1, abs(w[i])), "element \(i): \(parameters.pointer[i]) vs \(w[i])")
        }
    }
}
