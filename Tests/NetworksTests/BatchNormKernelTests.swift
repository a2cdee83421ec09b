import LandscapeCore
import Networks
import Testing

/// Where the processor has AVX-512, Float batch-norm's passes for 16 to 64 channels (statistics,
/// normalisation, training backward) run in kernels with every per-channel value in a register
/// (`Scalar.normalizesDirectly`); elsewhere these tests check the loops over rows, against the same
/// Double reference.
struct BatchNormKernelTests {
    /// Channels (one to four vectors of 16), whether a ReLU follows and whether a max-pool does, which
    /// batch-norm then takes in its passes, backward reading the pooled gradient in training; and the
    /// mode (evaluation: running statistics, the kernels forward only). 3 x 6 x 6 = 108 rows per
    /// channel, a whole block of 64 and a part.
    static let cases: [(channels: Int, rectifies: Bool, pools: Bool, mode: Mode)] = [
        (16, true, false, .train), (32, false, false, .train), (48, true, false, .train), (64, false, false, .train),
        (16, true, true, .train), (32, false, true, .train), (16, true, true, .evaluation), (32, false, false, .evaluation),
    ]

    @Test("Float output, running statistics, input, scale and shift gradients match Double", arguments: cases.indices)
    func againstDouble(_ index: Int) {
        let (channels, rectifies, pools, mode) = Self.cases[index]
        let shape = Shape(n: 3, height: 6, width: 6, channels: channels)
        let layers: [LayerSpec] = [.batchNorm2d(name: "bn", channels: channels)] + (rectifies ? [.relu] : []) + (pools ? [.maxPool2d(size: 2)] : [])
        let (single, double) = (Network<Float>(layers: layers, inputShape: shape, computesInputGradient: true),
                                Network<Double>(layers: layers, inputShape: shape, computesInputGradient: true))
        var generator = RandomGenerator(seed: 21)
        for i in 0..<double.parameters.count { double.parameters.pointer[i] = generator.uniform(0.5, 1.5) * (i % 3 == 0 ? -1 : 1) }
        for i in 0..<double.state.count { double.state.pointer[i] = generator.uniform(0.5, 1.5) }
        for (to, from) in [(single.parameters, double.parameters), (single.state, double.state)] {
            for i in 0..<from.count { to.pointer[i] = Float(from.pointer[i]) }
        }
        let x = (0..<shape.count).map { _ in Float(generator.normal()) }
        let dy = (0..<(pools ? shape.count / 4 : shape.count)).map { _ in Float(generator.normal()) }
        func results<T: Scalar>(_ network: Network<T>) -> [Double] {
            var (input, output) = (x.map { T(Double($0)) }, dy.map { T(Double($0)) })
            let (y, dx) = input.withUnsafeMutableBufferPointer { xs in
                let y = network.forward(Tensor(xs.baseAddress!, shape), mode: mode)
                let dx = output.withUnsafeMutableBufferPointer { network.backward(Tensor($0.baseAddress!, y.shape))!.elements.map(Double.init) }
                return (y.elements.map(Double.init), dx)
            }
            return y + dx + (0..<network.gradients.count).map { Double(network.gradients.pointer[$0]) }
                + (0..<network.state.count).map { Double(network.state.pointer[$0]) }
        }
        let (found, expected) = (results(single), results(double))
        let largest = expected.map(abs).max()!
        let error = zip(found, expected).map { abs($0 - $1) }.max()!
        #expect(error < 1e-5 * largest,
                "\(channels) channels\(rectifies ? ", ReLU" : "")\(pools ? ", pooled" : ""), \(mode): error \(error) of \(largest)")
    }

    @Test("a pooled window's tie goes to its first position in scan order, as in Double")
    func pooledTie() {
        // Every 2x2 window's first and last pixels hold the same largest value, the other two less.
        let shape = Shape(n: 2, height: 4, width: 4, channels: 16)
        var generator = RandomGenerator(seed: 22)
        var x = [Float](repeating: 0, count: shape.count)
        for n in 0..<2 {
            for oy in 0..<2 {
                for ox in 0..<2 {
                    for c in 0..<16 {
                        let value = Float(generator.normal())
                        let at = { (dy: Int, dx: Int) in ((n * 4 + 2 * oy + dy) * 4 + 2 * ox + dx) * 16 + c }
                        (x[at(0, 0)], x[at(1, 1)], x[at(0, 1)], x[at(1, 0)]) = (value, value, value - 1, value - 2)
                    }
                }
            }
        }
        func inputGradient<T: Scalar>(_ network: Network<T>) -> [Double] {
            var input = x.map { T(Double($0)) }
            return input.withUnsafeMutableBufferPointer { xs in
                let y = network.forward(Tensor(xs.baseAddress!, shape), mode: .train)
                var dy = (0..<y.shape.count).map { T(Double($0 % 7 + 1)) }
                return dy.withUnsafeMutableBufferPointer { network.backward(Tensor($0.baseAddress!, y.shape))!.elements.map(Double.init) }
            }
        }
        let layers: [LayerSpec] = [.batchNorm2d(name: "bn", channels: 16), .maxPool2d(size: 2)]
        let (single, double) = (Network<Float>(layers: layers, inputShape: shape, computesInputGradient: true),
                                Network<Double>(layers: layers, inputShape: shape, computesInputGradient: true))
        single.initialize(seed: 23)
        double.initialize(seed: 23)
        let (found, expected) = (inputGradient(single), inputGradient(double))
        let largest = expected.map(abs).max()!
        #expect(zip(found, expected).map { abs($0 - $1) }.max()! < 1e-5 * largest)
    }
}
