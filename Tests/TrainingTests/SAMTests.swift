import LandscapeCore
import Networks
import Testing
import Training

/// SAM's perturbation on cases with exact answers, its two API shapes, and rho = 0.
struct SAMTests {
    /// A vector of `values` with a one-tensor layout.
    static func vector(_ values: [Float]) -> ParameterVector<Float> {
        var layout = ParameterLayout()
        layout.append("w", shape: [values.count], role: .weight, initialization: .constant(0))
        let vector = ParameterVector<Float>(layout: layout)
        _ = vector.elements.update(from: values)
        return vector
    }

    @Test("the perturbation is rho g / ||g||, and ASAM's rho T^2 g / ||T g|| with T = |w| + eta")
    func perturbation() {
        let w = Self.vector([1, -2, 0.5]), g = Self.vector([3, 0, -4])
        let sam = SAM(base: SGD(parameterCount: 3, learningRate: 0.1), parameterCount: 3, rho: 0.5)
        let norm = sam.firstStep(parameters: w, gradients: g)
        #expect(norm == 5)
        let moved: [Double] = [1 + 0.5 * 3 / 5, -2, 0.5 - 0.5 * 4 / 5]
        for (ours, exact) in zip(w.elements, moved) { #expect(abs(Double(ours) - exact) < 1e-6) }
        sam.restore(parameters: w)
        #expect(Array(w.elements) == [1, -2, 0.5])

        let asam = SAM(base: SGD(parameterCount: 3, learningRate: 0.1), parameterCount: 3, rho: 0.5, adaptive: true, eta: 0.1)
        let t: [Double] = [1.1, 2.1, 0.6]
        let tg = [t[0] * 3, 0, t[2] * -4]
        let expectedNorm = (tg[0] * tg[0] + tg[2] * tg[2]).squareRoot()
        let asamNorm = asam.firstStep(parameters: w, gradients: g)
        #expect(abs(asamNorm - expectedNorm) < 1e-5)
        let expected = [1 + 0.5 * t[0] * t[0] * 3 / expectedNorm, -2, 0.5 - 0.5 * t[2] * t[2] * 4 / expectedNorm]
        for (ours, exact) in zip(w.elements, expected) { #expect(abs(Double(ours) - exact) < 1e-6) }
    }

    /// On the quadratic L(w) = w^T A w / 2 with A diagonal, the gradient at w + e is A (w + e): the
    /// second step must use exactly that gradient at the restored weights.
    @Test("on a quadratic, SAM's update is the base step with the gradient at w + e")
    func quadratic() {
        let a: [Float] = [4, 1, 0.25]
        let w = Self.vector([1, 1, 1]), g = Self.vector([0, 0, 0])
        let sam = SAM(base: SGD(parameterCount: 3, learningRate: 0.1), parameterCount: 3, rho: 0.1)
        sam.step(parameters: w, gradients: g) { _ in
            for i in 0..<3 { g.elements[i] = a[i] * w.elements[i] }
            return Evaluation(loss: 0, correct: 0, count: 1)
        }
        let gradient: [Double] = [4, 1, 0.25]
        let norm = gradient.map { $0 * $0 }.reduce(0, +).squareRoot()
        for i in 0..<3 {
            let perturbed = 1 + 0.1 * gradient[i] / norm
            let exact = 1 - 0.1 * Double(a[i]) * perturbed
            #expect(abs(Double(w.elements[i]) - exact) < 1e-6)
        }
    }

    static func batch(_ generator: inout RandomGenerator, n: Int) -> (Buffer<Float>, [Int32]) {
        let images = Buffer<Float>(count: n * 64)
        for i in 0..<(n * 64) { images.pointer[i] = Float(generator.normal()) }
        return (images, (0..<n).map { _ in Int32(generator.integer(below: 10)) })
    }

    @Test("rho = 0 gives bit for bit the base optimizer, and the closure and explicit APIs agree")
    func rhoZeroAndBothAPIs() {
        let architecture = Architecture(family: .cnn, side: 8)
        var networks: [Network<Float>] = []
        // Runs: SAM through the closure, SAM through firstStep/secondStep, SAM with rho 0, plain SGD.
        for run in 0..<4 {
            let network = Network<Float>(architecture)
            network.initialize(seed: 4)
            let sgd = SGD(parameterCount: network.parameters.count, learningRate: 0.1, momentum: 0.9, weightDecay: 5e-4)
            let sam = SAM(base: sgd, parameterCount: network.parameters.count, rho: run == 2 ? 0 : 0.05)
            var generator = RandomGenerator(seed: 9)
            for _ in 0..<4 {
                let (images, labels) = Self.batch(&generator, n: 16)
                let x = Tensor(images, Shape(n: 16, height: 8, width: 8, channels: 1))
                labels.withUnsafeBufferPointer { y in
                    switch run {
                    case 0, 2:
                        sam.step(parameters: network.parameters, gradients: network.gradients) { pass in
                            network.lossAndGradient(x, labels: y.baseAddress!, mode: pass.mode)
                        }
                    case 1:
                        network.lossAndGradient(x, labels: y.baseAddress!)
                        sam.firstStep(parameters: network.parameters, gradients: network.gradients)
                        network.lossAndGradient(x, labels: y.baseAddress!, mode: .training(updatesStatistics: false))
                        sam.secondStep(parameters: network.parameters, gradients: network.gradients)
                    default:
                        network.lossAndGradient(x, labels: y.baseAddress!)
                        sgd.step(parameters: network.parameters, gradients: network.gradients)
                    }
                }
            }
            networks.append(network)
        }
        #expect(Array(networks[0].parameters.elements) == Array(networks[1].parameters.elements))
        #expect(Array(networks[0].state.elements) == Array(networks[1].state.elements))
        #expect(Array(networks[2].parameters.elements) == Array(networks[3].parameters.elements))
        #expect(Array(networks[2].state.elements) == Array(networks[3].state.elements))
        #expect(Array(networks[0].parameters.elements) != Array(networks[3].parameters.elements))
        // Running statistics move in the first pass only: SAM counts as many batches as SGD.
        #expect(networks[0].batchesTracked == networks[3].batchesTracked)
    }
}
