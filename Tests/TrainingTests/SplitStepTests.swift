import LandscapeCore
import Networks
import Testing
import Training

/// Optimizer steps split between a network's threads give the same bits as on one thread.
struct SplitStepTests {
    enum Rule: String, CaseIterable { case sgd, nesterov, adamw, sam, asam }

    /// The optimizer for `rule` over `count` parameters, and the SAM around it if any.
    static func optimizer(_ rule: Rule, count: Int) -> (any Optimizer, SAM?) {
        let none: SAM? = nil
        switch rule {
        case .sgd: return (SGD(parameterCount: count, learningRate: 0.1, momentum: 0.9, weightDecay: 5e-4), none)
        case .nesterov: return (SGD(parameterCount: count, learningRate: 0.1, momentum: 0.9, weightDecay: 5e-4, nesterov: true), none)
        case .adamw: return (AdamW(parameterCount: count, learningRate: 1e-3), none)
        case .sam:
            let base = SGD(parameterCount: count, learningRate: 0.1, momentum: 0.9)
            return (base, SAM(base: base, parameterCount: count, rho: 0.05))
        case .asam:
            let base = AdamW(parameterCount: count, learningRate: 1e-3)
            return (base, SAM(base: base, parameterCount: count, rho: 0.5, adaptive: true))
        }
    }

    /// The parameters and optimizer state after three steps on a 3-thread network, the element-wise
    /// work split between its threads or not.
    static func train(_ rule: Rule, split: Bool) -> (parameters: [Float], state: [[Float]]) {
        let network = Network<Float>(Architecture(family: .cnn, side: 8))
        network.initialize(seed: 4)
        network.threads = 3
        let (optimizer, sam) = optimizer(rule, count: network.parameters.count)
        let threads = split ? network : nil
        var generator = RandomGenerator(seed: 9)
        for _ in 0..<3 {
            var images = (0..<(12 * 64)).map { _ in Float(generator.normal()) }
            let labels = (0..<12).map { _ in Int32(generator.integer(below: 10)) }
            images.withUnsafeMutableBufferPointer { x in
                labels.withUnsafeBufferPointer { y in
                    let batch = Tensor(x.baseAddress!, Shape(n: 12, height: 8, width: 8, channels: 1))
                    if let sam {
                        sam.step(parameters: network.parameters, gradients: network.gradients, on: threads) { pass in
                            network.lossAndGradient(batch, labels: y.baseAddress!, mode: pass.mode)
                        }
                    } else {
                        network.lossAndGradient(batch, labels: y.baseAddress!)
                        optimizer.step(parameters: network.parameters, gradients: network.gradients, on: threads)
                    }
                }
            }
        }
        let state = optimizer.state().compactMap { tensor -> [Float]? in
            if case .f32(let values) = tensor.payload { values } else { nil }
        }
        return (Array(network.parameters.elements), state)
    }

    @Test("the same weights and optimizer state, bit for bit", arguments: Rule.allCases)
    func sameBits(_ rule: Rule) {
        let (whole, split) = (Self.train(rule, split: false), Self.train(rule, split: true))
        /// How many elements of two vectors of the same length differ in their bits.
        func differing(_ a: [Float], _ b: [Float]) -> Int { zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count }
        #expect(differing(whole.parameters, split.parameters) == 0)
        #expect(whole.state.count == split.state.count && !whole.state.isEmpty)
        for (a, b) in zip(whole.state, split.state) { #expect(differing(a, b) == 0) }
    }
}
