import LandscapeCore
import Networks
import Testing
import Training

/// Optimizer steps split between a network's threads, and steps fused with the training pass, give
/// the same bits as on one thread after the pass.
struct SplitStepTests {
    enum Rule: String, CaseIterable { case sgd, nesterov, adamw, sam, asam }

    /// How a step follows the pass: on the calling thread, split between the network's threads, or
    /// fused with the pass (`Optimizer.step(_:_:labels:)`, `SAM.step(_:_:labels:)`).
    enum Way { case whole, split, fused }

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

    /// The parameters and optimizer state after three steps of `family` on `threads` threads (the
    /// mlp's passes split its features, the cnn's its batch), taken `way`.
    static func train(_ rule: Rule, _ family: Architecture.Family, threads: Int, _ way: Way) -> (parameters: [Float], state: [[Float]]) {
        let network = Network<Float>(Architecture(family: family, side: 8))
        network.initialize(seed: 4)
        network.threads = threads
        let (optimizer, sam) = optimizer(rule, count: network.parameters.count)
        let on = way == .split ? network : nil
        var generator = RandomGenerator(seed: 9)
        let n = 32  // a multiple of 16, so the mlp's forward products take the kernel
        for _ in 0..<3 {
            var images = (0..<(n * 64)).map { _ in Float(generator.normal()) }
            let labels = (0..<n).map { _ in Int32(generator.integer(below: 10)) }
            images.withUnsafeMutableBufferPointer { x in
                labels.withUnsafeBufferPointer { y in
                    let batch = Tensor(x.baseAddress!, Shape(n: n, height: 8, width: 8, channels: 1))
                    switch (sam, way) {
                    case let (sam?, .fused):
                        sam.step(network, batch, labels: y.baseAddress!)
                    case let (sam?, _):
                        sam.step(parameters: network.parameters, gradients: network.gradients, on: on) { pass in
                            network.lossAndGradient(batch, labels: y.baseAddress!, mode: pass.mode)
                        }
                    case (nil, .fused):
                        optimizer.step(network, batch, labels: y.baseAddress!)
                    case (nil, _):
                        network.lossAndGradient(batch, labels: y.baseAddress!)
                        optimizer.step(parameters: network.parameters, gradients: network.gradients, on: on)
                    }
                }
            }
        }
        let state = optimizer.state().compactMap { tensor -> [Float]? in
            if case .f32(let values) = tensor.payload { values } else { nil }
        }
        return (Array(network.parameters.elements), state)
    }

    @Test("split and fused: the same weights and optimizer state, bit for bit", arguments: Rule.allCases, [Architecture.Family.cnn, .mlp])
    func sameBits(_ rule: Rule, _ family: Architecture.Family) {
        /// How many elements of two vectors of the same length differ in their bits.
        func differing(_ a: [Float], _ b: [Float]) -> Int { zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count }
        for threads in [1, 3] {
            let whole = Self.train(rule, family, threads: threads, .whole)
            #expect(!whole.state.isEmpty && whole.parameters.allSatisfy(\.isFinite))
            for way in [Way.split, .fused] {
                let other = Self.train(rule, family, threads: threads, way)
                #expect(differing(whole.parameters, other.parameters) == 0, "\(way) on \(threads) threads")
                #expect(whole.state.count == other.state.count)
                for (a, b) in zip(whole.state, other.state) { #expect(differing(a, b) == 0, "\(way) on \(threads) threads") }
            }
        }
    }
}
