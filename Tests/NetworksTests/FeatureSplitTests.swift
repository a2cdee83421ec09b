import LandscapeCore
import Networks
import Testing

/// A dense network's passes on several threads (`FeatureSplit`): training in pieces of 32 of a
/// layer's features (outputs forward; weight and input gradient columns backward), evaluation in
/// pieces of samples. The zoo's mlp is covered by `ThreadSplitTests` and `PyTorchParityTests`;
/// these networks have widths that are not multiples of the pieces or of the kernels' 16 columns,
/// and layers narrower than one piece.
struct FeatureSplitTests {
    struct Case: CustomTestStringConvertible, Sendable {
        let layers: [LayerSpec]
        let inputShape: Shape
        var testDescription: String { "\(layers.count) layers over \(inputShape.sampleSize) inputs" }
    }

    static let cases = [
        // Widths 40 and 33 leave a last block of 8 and of 1 feature; 5 classes are one block.
        Case(layers: [.flatten, .linear(name: "fc1", inputs: 12, outputs: 40), .relu,
                      .linear(name: "fc2", inputs: 40, outputs: 33), .relu, .linear(name: "fc3", inputs: 33, outputs: 5)],
             inputShape: Shape(n: 1, height: 3, width: 4, channels: 1)),
        // No flatten, no ReLU between two layers, and a first layer as wide as 3 blocks.
        Case(layers: [.linear(name: "a", inputs: 48, outputs: 17), .linear(name: "b", inputs: 17, outputs: 64), .relu,
                      .linear(name: "c", inputs: 64, outputs: 3)],
             inputShape: Shape(n: 1, features: 48)),
        // A layer of one feature: its gradient products have a single row.
        Case(layers: [.linear(name: "a", inputs: 20, outputs: 1), .relu, .linear(name: "b", inputs: 1, outputs: 4)],
             inputShape: Shape(n: 1, features: 20)),
        // Widths the Float kernels take whole (multiples of 16), 96 in pieces of 32, 80 of 32 and 16.
        Case(layers: [.flatten, .linear(name: "fc1", inputs: 80, outputs: 96), .relu, .linear(name: "fc2", inputs: 96, outputs: 10)],
             inputShape: Shape(n: 1, height: 8, width: 10, channels: 1)),
    ]

    /// The loss and gradients of one training pass on `threads` threads, from seed 5, and the loss
    /// of an evaluation pass (no backward) after it.
    static func pass<T: Scalar>(_ test: Case, threads: Int, as: T.Type = Double.self)
        -> (loss: Double, correct: Int, gradients: [Double], evaluation: Evaluation) {
        let network = Network<T>(layers: test.layers, inputShape: test.inputShape)
        network.initialize(seed: 5)
        network.threads = threads
        var generator = RandomGenerator(seed: 6)
        let n = 80  // a multiple of 16, as the kernel takes the forward products' columns, and pieces of 64 and 16 samples in evaluation
        var images = (0..<n * test.inputShape.sampleSize).map { _ in T(generator.normal()) }
        guard case .linear(_, _, let classes) = test.layers.last! else { preconditionFailure("a dense case ends in a linear layer") }
        let labels = (0..<n).map { _ in Int32(generator.integer(below: classes)) }
        let (training, evaluation) = images.withUnsafeMutableBufferPointer { x in
            labels.withUnsafeBufferPointer { y in
                let batch = Tensor(x.baseAddress!, test.inputShape.with(n: n))
                _ = network.lossAndGradient(batch, labels: y.baseAddress!)  // the second pass reuses the first's buffers
                let training = network.lossAndGradient(batch, labels: y.baseAddress!)
                return (training, network.loss(batch, labels: y.baseAddress!))
            }
        }
        return (training.loss, training.correct, network.gradients.elements.map { Double($0) }, evaluation)
    }

    @Test("loss, accuracy and every gradient as on one thread, to 1e-12, and the same bits on 2, 3 and 5 threads", arguments: cases)
    func sameAsOneThread(_ test: Case) {
        let one = Self.pass(test, threads: 1)
        #expect(one.gradients.allSatisfy { $0.isFinite } && one.gradients.contains { $0 != 0 })
        let two = Self.pass(test, threads: 2)
        for threads in [2, 3, 5] {
            let split = Self.pass(test, threads: threads)
            // A piece of work is computed the same way whichever thread takes it.
            #expect(split.gradients == two.gradients && split.loss == two.loss, "\(threads) threads")
            #expect(abs(split.loss - one.loss) <= 1e-12 * one.loss, "\(threads) threads")
            #expect(split.correct == one.correct)
            #expect(split.evaluation == two.evaluation && abs(split.evaluation.loss - one.evaluation.loss) <= 1e-12 * one.loss)
            #expect(split.evaluation.correct == one.evaluation.correct)
            let worst = zip(split.gradients, one.gradients).map { abs($0 - $1) }.max()!
            let largest = one.gradients.map(abs).max()!
            #expect(worst <= 1e-12 * largest, "\(threads) threads: gradients differ by \(worst)")
        }
    }

    @Test("in Float (the kernels where the processor has them) on 1 and 2 threads as in Double to 1e-5; 2 and 3 threads the same bits", arguments: cases)
    func floatAgainstDouble(_ test: Case) {
        let double = Self.pass(test, threads: 1)
        let largest = double.gradients.map(abs).max()!
        let two = Self.pass(test, threads: 2, as: Float.self)
        #expect(Self.pass(test, threads: 3, as: Float.self).gradients == two.gradients, "the same bits on 3 threads as on 2")
        for threads in [1, 2] {
            let float = Self.pass(test, threads: threads, as: Float.self)
            #expect(abs(float.loss - double.loss) <= 1e-5 * double.loss, "\(threads) threads")
            #expect(abs(float.evaluation.loss - double.evaluation.loss) <= 1e-5 * double.loss, "\(threads) threads")
            let worst = zip(float.gradients, double.gradients).map { abs($0 - $1) }.max()!
            #expect(worst <= 1e-5 * largest, "\(threads) threads: gradients differ by \(worst)")
        }
    }
}
