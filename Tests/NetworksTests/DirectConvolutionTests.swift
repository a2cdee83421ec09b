import LandscapeCore
import Networks
import Testing

/// Where the processor has AVX-512, a Float convolution's forward pass is computed directly from
/// zero-padded images (`Scalar.convolve`), in tiles of up to 14 pixels of one output row, or two
/// rows of up to 7 in narrow images, by 16 or 32 outputs; so are the weight gradient, image by image
/// in tiles of 16 sums (for a first layer's few channels, of every tap), and the input gradient of a
/// convolution with a multiple of 16 inputs, in phases where the stride is more than 1. Elsewhere
/// these tests check the unrolled path, against the same references.
struct DirectConvolutionTests {
    typealias Case = ConvolutionChunkTests.Case

    static let cases = [
        // Rows of two 14-pixel tiles by two vectors; chunks of 910 rows end inside images.
        Case(inputs: 16, outputs: 32, kernel: 3, stride: 1, padding: 1, side: 28, batch: 6, first: false),
        // One 14-pixel tile by one vector per row.
        Case(inputs: 16, outputs: 16, kernel: 3, stride: 1, padding: 1, side: 14, batch: 9, first: false),
        // Stride 2 to 7 x 7: two-row tiles and a last single row, two blocks of 32 outputs.
        Case(inputs: 16, outputs: 64, kernel: 3, stride: 2, padding: 1, side: 14, batch: 5, first: false),
        // A 5x5 kernel, stride 2, to 10 x 10; 48 outputs are three blocks of 16.
        Case(inputs: 3, outputs: 48, kernel: 5, stride: 2, padding: 2, side: 19, batch: 4, first: false),
        // A residual block's shortcut: 1x1, stride 2.
        Case(inputs: 32, outputs: 16, kernel: 1, stride: 2, padding: 0, side: 14, batch: 3, first: false),
        // No padding, 9 x 9 to 7 x 7.
        Case(inputs: 8, outputs: 32, kernel: 3, stride: 1, padding: 0, side: 9, batch: 3, first: false),
        // Input gradients of stride 1 with 16 or 32 inputs are convolutions of the output gradient
        // (`backsDirectly`), here with borders of 2: from 16 outputs, and from 8 outputs, whose
        // forward pass unrolls.
        Case(inputs: 32, outputs: 16, kernel: 3, stride: 1, padding: 0, side: 9, batch: 3, first: false),
        Case(inputs: 16, outputs: 8, kernel: 5, stride: 1, padding: 2, side: 10, batch: 2, first: false),
        // Input gradients of other strides by phases: a 5x5 kernel over an odd size, whose phases
        // differ in size; stride 2 without padding, whose first phase reads no row above; stride 3
        // with a border of 2, where every phase has its own offset.
        Case(inputs: 16, outputs: 16, kernel: 5, stride: 2, padding: 2, side: 11, batch: 2, first: false),
        Case(inputs: 16, outputs: 32, kernel: 3, stride: 2, padding: 0, side: 10, batch: 2, first: false),
        Case(inputs: 32, outputs: 16, kernel: 3, stride: 3, padding: 2, side: 8, batch: 2, first: false),
        // Rows of 14 + 14 + 2 pixels; images of one and of two pixels.
        Case(inputs: 1, outputs: 16, kernel: 3, stride: 1, padding: 1, side: 30, batch: 2, first: false),
        Case(inputs: 4, outputs: 16, kernel: 3, stride: 1, padding: 1, side: 1, batch: 3, first: false),
        Case(inputs: 4, outputs: 32, kernel: 3, stride: 1, padding: 1, side: 2, batch: 3, first: false),
        // First layers with few input channels: the weight gradient from padded images, every tap
        // side by side (`weighsByTaps`): a stem, three channels into two blocks of 16, stride 2
        // without padding, and a 5x5 kernel.
        Case(inputs: 1, outputs: 16, kernel: 3, stride: 1, padding: 1, side: 28, batch: 3, first: true),
        Case(inputs: 3, outputs: 32, kernel: 3, stride: 1, padding: 1, side: 9, batch: 2, first: true),
        Case(inputs: 2, outputs: 16, kernel: 3, stride: 2, padding: 0, side: 10, batch: 2, first: true),
        Case(inputs: 1, outputs: 16, kernel: 5, stride: 2, padding: 2, side: 11, batch: 2, first: true),
    ]

    @Test("Float forward, and the backward after it, against the definition", arguments: cases)
    func againstDefinition(_ c: Case) {
        let input = Shape(n: c.batch, height: c.side, width: c.side, channels: c.inputs)
        let network = Network<Float>(layers: [.conv2d(name: "c", inputs: c.inputs, outputs: c.outputs, kernel: c.kernel,
                                                      stride: c.stride, padding: c.padding, bias: false)],
                                     inputShape: input, computesInputGradient: !c.first)
        network.initialize(seed: 13)
        var generator = RandomGenerator(seed: 14)
        let x = Buffer<Float>(count: input.count)
        for i in 0..<input.count { x.pointer[i] = Float(generator.normal()) }
        let y = network.forward(Tensor(x, input), mode: .train)
        let dy = Buffer<Float>(count: y.shape.count)
        for i in 0..<y.shape.count { dy.pointer[i] = Float(generator.normal()) }
        let output = y.elements.map(Double.init)
        let dx = network.backward(Tensor(dy, y.shape))?.elements.map(Double.init)

        let (xs, ws, dys) = ((0..<input.count).map { Double(x.pointer[$0]) }, network.parameters["c.weight"].map(Double.init),
                             (0..<y.shape.count).map { Double(dy.pointer[$0]) })
        let expected = ConvolutionChunkTests.direct(c, x: xs, input: input, output: y.shape, weight: ws, dy: dys)
        #expect(ConvolutionChunkTests.error(output, expected.output) < 1e-6)
        #expect(ConvolutionChunkTests.error(network.gradients["c.weight"].map(Double.init), expected.weightGradient) < 1e-6)
        if let dx { #expect(ConvolutionChunkTests.error(dx, expected.inputGradient) < 1e-6) } else { #expect(c.first) }
    }

    @Test("zoo models evaluate in Float (batch-norm folded, first layers too), and differentiate in evaluation mode, as in Double",
          arguments: ["cnn", "resnet8"])
    func zooInFloat(_ name: String) {
        let architecture = Architecture(family: name == "cnn" ? .cnn : .resnet, side: 28)
        let (single, double) = (Network<Float>(architecture), Network<Double>(architecture))
        double.initialize(seed: 15)
        // Batch-norm far from the identity, as in the folding tests.
        BatchNormFoldingTests.randomizeNorms(double, seed: 16)
        let reference = double
        for (to, from) in [(single.parameters, reference.parameters), (single.state, reference.state)] {
            for i in 0..<from.count { to.pointer[i] = Float(from.pointer[i]) }
        }
        var generator = RandomGenerator(seed: 17)
        let shape = Shape(n: 24, height: 28, width: 28, channels: 1)
        let images = (0..<shape.count).map { _ in generator.normal() }
        let labels = (0..<shape.n).map { _ in Int32(generator.integer(below: 10)) }
        // The analyses' gradients: evaluation mode with backward, through the same kernels (first,
        // so that no inference pass has readied a layer for it).
        labels.withUnsafeBufferPointer { y in
            var (xs, xd) = (images.map(Float.init), images)
            _ = xs.withUnsafeMutableBufferPointer { single.lossAndGradient(Tensor($0.baseAddress!, shape), labels: y.baseAddress!, mode: .evaluation) }
            _ = xd.withUnsafeMutableBufferPointer { reference.lossAndGradient(Tensor($0.baseAddress!, shape), labels: y.baseAddress!, mode: .evaluation) }
        }
        let expected = (0..<reference.gradients.count).map { reference.gradients.pointer[$0] }
        let error = expected.indices.map { abs(Double(single.gradients.pointer[$0]) - expected[$0]) }.max()!
        #expect(error < 1e-4 * expected.map(abs).max()!, "\(name): evaluation-mode gradient error \(error)")
        let evaluations = labels.withUnsafeBufferPointer { y in
            var (xs, xd) = (images.map(Float.init), images)
            return (xs.withUnsafeMutableBufferPointer { single.loss(Tensor($0.baseAddress!, shape), labels: y.baseAddress!) },
                    xd.withUnsafeMutableBufferPointer { reference.loss(Tensor($0.baseAddress!, shape), labels: y.baseAddress!) })
        }
        #expect(evaluations.1.loss > 0.5, "batch-norm far from the identity gives a loss far from zero")
        #expect(abs(evaluations.0.loss - evaluations.1.loss) < 1e-5 * evaluations.1.loss)
    }
}
