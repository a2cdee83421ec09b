import Foundation
import LandscapeCore
import Testing
import Training

/// AdamW against `torch.optim.AdamW`'s update worked out in Double in the test, and the round trip
/// of its state.
struct AdamWTests {
    static let initial: [Float] = [1, -2, 0.5]
    /// The middle element has no gradient on the first step: its moments stay zero and only the
    /// decay moves it.
    static let gradients: [[Float]] = [[0.1, 0, -2], [-0.3, 0.4, 1], [0.25, -1, 0.5], [2, 0.125, -0.75]]
    static let (learningRate, weightDecay) = (0.1, 0.01)
    static let (beta1, beta2, epsilon) = (0.9, 0.999, 1e-8)

    static func vectors(_ values: [Float]) -> (ParameterVector<Float>, ParameterVector<Float>) {
        var layout = ParameterLayout()
        layout.append("w", shape: [values.count], role: .weight, initialization: .constant(0))
        let parameters = ParameterVector<Float>(layout: layout)
        _ = parameters.elements.update(from: values)
        return (parameters, ParameterVector<Float>(layout: layout))
    }

    static func set(_ vector: ParameterVector<Float>, _ values: [Float]) { _ = vector.elements.update(from: values) }

    /// PyTorch's AdamW (amsgrad off) in Double: the weights and both moments after each step.
    static func reference(steps: Int) -> [(w: [Double], m: [Double], v: [Double])] {
        var w = initial.map(Double.init)
        var m = [Double](repeating: 0, count: 3), v = m
        var trajectory: [(w: [Double], m: [Double], v: [Double])] = []
        for t in 1...steps {
            let g = gradients[t - 1].map(Double.init)
            let biasCorrection1 = 1 - pow(beta1, Double(t))
            let biasCorrection2 = 1 - pow(beta2, Double(t))
            for i in 0..<3 {
                w[i] *= 1 - learningRate * weightDecay
                m[i] = beta1 * m[i] + (1 - beta1) * g[i]
                v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
                let denominator = v[i].squareRoot() / biasCorrection2.squareRoot() + epsilon
                w[i] -= learningRate / biasCorrection1 * m[i] / denominator
            }
            trajectory.append((w, m, v))
        }
        return trajectory
    }

    /// Float arithmetic following the formulas lands within a few units in the last place of the
    /// exact weights (2^-23 = 1.2e-7 relative): PyTorch's own float32 AdamW is within 3.3e-8 of
    /// `reference` on these two steps.
    static func close(_ ours: [Float], _ exact: [Double], tolerance: Double = 2e-7) -> Bool {
        zip(ours, exact).allSatisfy { abs(Double($0) - $1) <= tolerance * max(1, abs($1)) }
    }

    /// Relative agreement, for the moments, which are far below 1.
    static func relativelyClose(_ ours: [Float], _ exact: [Double], tolerance: Double = 1e-6) -> Bool {
        zip(ours, exact).allSatisfy { abs(Double($0) - $1) <= tolerance * abs($1) }
    }

    @Test("the defaults are PyTorch's")
    func defaults() {
        let adamw = AdamW(parameterCount: 3, learningRate: 1e-3)
        #expect(adamw.beta1 == 0.9 && adamw.beta2 == 0.999 && adamw.epsilon == 1e-8 && adamw.weightDecay == 0.01)
        #expect(adamw.steps == 0)
    }

    @Test("two steps follow PyTorch's AdamW with lr 0.1 and weight decay 0.01")
    func twoSteps() throws {
        let (parameters, gradient) = Self.vectors(Self.initial)
        let adamw = AdamW(parameterCount: 3, learningRate: Self.learningRate, weightDecay: Self.weightDecay)
        let reference = Self.reference(steps: 2)

        Self.set(gradient, Self.gradients[0])
        adamw.step(parameters: parameters, gradients: gradient)
        #expect(Array(gradient.elements) == Self.gradients[0], "step must not change the gradients")
        // After one step the bias-corrected moments are g and g^2: every weight with a gradient
        // moves by lr * g / (|g| + eps) after decaying, the one without only decays.
        let firstStep = zip(Self.initial, Self.gradients[0]).map { w, g in
            Double(w) * (1 - Self.learningRate * Self.weightDecay) - Self.learningRate * Double(g) / (abs(Double(g)) + Self.epsilon)
        }
        #expect(abs(firstStep[0] - 0.899) < 1e-6 && abs(firstStep[1] + 1.998) < 1e-12 && abs(firstStep[2] - 0.5995) < 1e-6)
        for (a, b) in zip(firstStep, reference[0].w) { #expect(abs(a - b) < 1e-12) }
        #expect(Self.close(Array(parameters.elements), reference[0].w), "\(Array(parameters.elements)) vs \(reference[0].w)")

        Self.set(gradient, Self.gradients[1])
        adamw.step(parameters: parameters, gradients: gradient)
        #expect(adamw.steps == 2)
        #expect(Self.close(Array(parameters.elements), reference[1].w), "\(Array(parameters.elements)) vs \(reference[1].w)")

        // The state holds the raw (uncorrected) moments. Their coefficients 1 - beta1 = 0.1 and
        // 1 - beta2 = 0.001 are PyTorch's Python floats; formed in Float from 0.9 and 0.999 they
        // would be off by 2.4e-7 and 1.3e-5 relative, and every update 6.5e-6 too large.
        let file = try SafeTensorsFile(data: SafeTensorsWriter.encode(adamw.state(), metadata: [:]), source: "state")
        #expect(try file.integers("steps") == [2])
        let (m, v) = (try file.floats("exp_avg"), try file.floats("exp_avg_sq"))
        #expect(Self.relativelyClose(m, reference[1].m), "exp_avg \(m) vs \(reference[1].m)")
        #expect(Self.relativelyClose(v, reference[1].v), "exp_avg_sq \(v) vs \(reference[1].v)")
    }

    @Test("the decay is decoupled: with a zero gradient a weight only shrinks by lr * weightDecay")
    func decoupledDecay() {
        let (parameters, gradient) = Self.vectors([4, -8, 0])
        let adamw = AdamW(parameterCount: 3, learningRate: 0.5, weightDecay: 0.25)
        for _ in 0..<3 { adamw.step(parameters: parameters, gradients: gradient) }
        // (1 - 0.5 * 0.25)^3 = 0.875^3, exact in Float.
        #expect(Array(parameters.elements) == [4 * 0.669921875, -8 * 0.669921875, 0])
    }

    @Test("state() and restore() resume bit for bit")
    func resume() throws {
        let (parameters, gradient) = Self.vectors(Self.initial)
        let adamw = AdamW(parameterCount: 3, learningRate: Self.learningRate, weightDecay: Self.weightDecay)
        for g in Self.gradients.prefix(2) {
            Self.set(gradient, g)
            adamw.step(parameters: parameters, gradients: gradient)
        }
        let data = try SafeTensorsWriter.encode(adamw.state(), metadata: [:])
        let (copy, _) = Self.vectors(Array(parameters.elements))
        let resumed = AdamW(parameterCount: 3, learningRate: Self.learningRate, weightDecay: Self.weightDecay)
        try resumed.restore(SafeTensorsFile(data: data, source: "state"))
        #expect(resumed.steps == 2)

        for g in Self.gradients.suffix(2) {
            Self.set(gradient, g)
            adamw.step(parameters: parameters, gradients: gradient)
            resumed.step(parameters: copy, gradients: gradient)
            #expect(parameters.elements.map(\.bitPattern) == copy.elements.map(\.bitPattern))
        }
        #expect(adamw.steps == 4 && resumed.steps == 4)
        let (a, b) = (adamw.state(), resumed.state())
        for (x, y) in zip(a, b) {
            #expect(x.name == y.name)
            let (fx, fy) = (try SafeTensorsFile(data: SafeTensorsWriter.encode([x], metadata: [:]), source: "a"),
                            try SafeTensorsFile(data: SafeTensorsWriter.encode([y], metadata: [:]), source: "b"))
            if x.name == "steps" {
                #expect(try fx.integers(x.name) == fy.integers(y.name))
            } else {
                #expect(try fx.floats(x.name).map(\.bitPattern) == fy.floats(y.name).map(\.bitPattern))
            }
        }

        // A fresh optimizer that is not restored takes another path: the bias correction restarts.
        let (fresh, _) = Self.vectors(Array(copy.elements))
        let restarted = AdamW(parameterCount: 3, learningRate: Self.learningRate, weightDecay: Self.weightDecay)
        restarted.step(parameters: fresh, gradients: gradient)
        resumed.step(parameters: copy, gradients: gradient)
        #expect(Array(fresh.elements) != Array(copy.elements))
    }

    @Test("a state of another length is refused")
    func wrongLength() throws {
        let data = try SafeTensorsWriter.encode(AdamW(parameterCount: 4, learningRate: 0.1).state(), metadata: [:])
        let adamw = AdamW(parameterCount: 3, learningRate: 0.1)
        #expect(throws: FileError.self) { try adamw.restore(SafeTensorsFile(data: data, source: "state")) }
    }
}
