import LandscapeCore
import Networks
import Testing

/// An evaluation pass without backward folds each batch-norm into the convolution before it
/// (`Conv2d.absorb`); it must give what convolving and then normalising gives, up to rounding.
struct BatchNormFoldingTests {
    /// The zoo's convolutional models, a convolution with a bias before its batch-norm, and stems on
    /// images of one row and of one column.
    static let networks: [String] = ["cnn", "resnet8", "conv with bias", "stem 1x2", "stem 3x1"]

    /// The input images' height and width.
    static func side(_ name: String) -> (height: Int, width: Int) {
        switch name {
        case "stem 1x2": (1, 2)
        case "stem 3x1": (3, 1)
        default: (12, 12)
        }
    }

    static func network(_ name: String) -> Network<Double> {
        let (height, width) = side(name)
        let input = Shape(n: 1, height: height, width: width, channels: 1)
        let network: Network<Double> = switch name {
        case "cnn": Network(Architecture(family: .cnn, side: 12))
        case "resnet8": Network(Architecture(family: .resnet, side: 12))
        case "conv with bias": Network(layers: [
            .conv2d(name: "conv", inputs: 1, outputs: 6, kernel: 3, stride: 2, padding: 1, bias: true),
            .batchNorm2d(name: "bn", channels: 6), .relu, .flatten, .linear(name: "fc", inputs: 6 * 6 * 6, outputs: 10),
        ], inputShape: input)
        default: Network(layers: [
            .conv2d(name: "conv", inputs: 1, outputs: 16, kernel: 3, stride: 1, padding: 1, bias: true),
            .batchNorm2d(name: "bn", channels: 16), .relu, .flatten, .linear(name: "fc", inputs: 16 * height * width, outputs: 10),
        ], inputShape: input)
        }
        network.initialize(seed: 5)
        randomizeNorms(network, seed: 6)
        return network
    }

    /// Sets batch-norm far from the identity: scales of both signs, shifts, means and variances
    /// (and biases).
    static func randomizeNorms(_ network: Network<Double>, seed: UInt64) {
        var generator = RandomGenerator(seed: seed)
        for vector in [network.parameters, network.state] {
            for entry in vector.layout.entries {
                let values = vector.view(entry)
                for i in values.indices {
                    switch entry.role {
                    case .normScale: values[i] = generator.uniform(-1.5, 2)
                    case .normShift, .runningMean, .bias: values[i] = generator.normal()
                    case .runningVariance: values[i] = generator.uniform(0.2, 3)
                    default: break
                    }
                }
            }
        }
    }

    @Test("the folded pass gives the loss and accuracy of normalising after the convolution", arguments: networks)
    func foldedMatchesUnfolded(_ name: String) {
        let network = Self.network(name)
        var generator = RandomGenerator(seed: 7)
        let (height, width) = Self.side(name)
        let shape = Shape(n: 40, height: height, width: width, channels: 1)
        var images = (0..<shape.count).map { _ in generator.normal() }
        let labels = (0..<shape.n).map { _ in Int32(generator.integer(below: 10)) }
        let (folded, unfolded) = images.withUnsafeMutableBufferPointer { x in
            labels.withUnsafeBufferPointer { y in
                let folded = network.loss(Tensor(x.baseAddress!, shape), labels: y.baseAddress!)
                // `forward` may be followed by backward, so it normalises as a layer of its own.
                let logits = network.forward(Tensor(x.baseAddress!, shape), mode: .evaluation)
                return (folded, SoftmaxCrossEntropy<Double>().forward(logits, labels: y.baseAddress!))
            }
        }
        #expect(unfolded.loss > 0.5, "batch-norm far from the identity gives a loss far from zero")
        #expect(abs(folded.loss - unfolded.loss) < 1e-12 * unfolded.loss)
        #expect(folded.correct == unfolded.correct && folded.count == shape.n)
    }
}
