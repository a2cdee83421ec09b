import LandscapeCore
import Networks
import Testing

/// A batch split between threads gives what one thread gives, up to rounding: GEMMs of fewer rows
/// may round a last bit differently, and in training the batch-norm statistics and the gradients are
/// sums taken in another order.
struct ThreadSplitTests {
    static let models: [Architecture] = [.mlp, Architecture(family: .cnn, side: 12), Architecture(family: .resnet, side: 12)]

    /// What one pass leaves behind.
    struct Pass {
        var evaluation: Evaluation
        var gradients: [Double]
        var state: [Double]
        var batchesTracked: Int
    }

    /// A network in Double from seed 3, with running statistics moved away from 0 and 1 by one
    /// training pass, so that evaluation mode normalises with something other than the identity.
    static func network(_ architecture: Architecture, threads: Int) -> Network<Double> {
        let network = Network<Double>(architecture)
        network.initialize(seed: 3)
        network.threads = threads
        return network
    }

    /// Seven images (a batch no thread count here divides evenly) of normal pixels, and labels.
    static func batch(_ architecture: Architecture) -> (images: [Double], labels: [Int32]) {
        var generator = RandomGenerator(seed: 11)
        let size = architecture.side * architecture.side * architecture.channels
        return ((0..<7 * size).map { _ in generator.normal() },
                (0..<7).map { _ in Int32(generator.integer(below: architecture.classes)) })
    }

    static func pass(_ architecture: Architecture, threads: Int, mode: Mode) -> Pass {
        let network = network(architecture, threads: threads)
        let (images, labels) = batch(architecture)
        let shape = Shape(n: 7, height: architecture.side, width: architecture.side, channels: architecture.channels)
        let evaluation = images.withUnsafeBufferPointer { x in
            labels.withUnsafeBufferPointer { y in
                // Twice: the second pass reuses the buffers and threads of the first.
                _ = network.lossAndGradient(Tensor(UnsafeMutablePointer(mutating: x.baseAddress!), shape), labels: y.baseAddress!, mode: mode)
                return network.lossAndGradient(Tensor(UnsafeMutablePointer(mutating: x.baseAddress!), shape), labels: y.baseAddress!, mode: mode)
            }
        }
        return Pass(evaluation: evaluation, gradients: Array(network.gradients.elements),
                    state: Array(network.state.elements), batchesTracked: network.batchesTracked)
    }

    static func relativeError(_ a: [Double], _ b: [Double]) -> Double {
        let difference = zip(a, b).reduce(0) { $0 + ($1.0 - $1.1) * ($1.0 - $1.1) }.squareRoot()
        let size = b.reduce(0) { $0 + $1 * $1 }.squareRoot()
        return difference / max(size, .leastNormalMagnitude)
    }

    @Test("evaluation: the same accuracy, and loss and gradients to 1e-13, for 2, 3 and 8 threads", arguments: models)
    func evaluation(_ architecture: Architecture) {
        let one = Self.pass(architecture, threads: 1, mode: .evaluation)
        for threads in [2, 3, 8] {
            let split = Self.pass(architecture, threads: threads, mode: .evaluation)
            #expect(abs(split.evaluation.loss - one.evaluation.loss) < 1e-13 * one.evaluation.loss, "\(threads) threads")
            #expect(split.evaluation.correct == one.evaluation.correct && split.evaluation.count == 7)
            #expect(Self.relativeError(split.gradients, one.gradients) < 1e-13, "\(threads) threads")
        }
    }

    @Test("training: gradients, running statistics and loss agree to 1e-12 for 2, 3 and 8 threads", arguments: models)
    func training(_ architecture: Architecture) {
        let one = Self.pass(architecture, threads: 1, mode: .train)
        #expect(one.gradients.contains { $0 != 0 })
        for threads in [2, 3, 8] {
            let split = Self.pass(architecture, threads: threads, mode: .train)
            #expect(abs(split.evaluation.loss - one.evaluation.loss) < 1e-12 * one.evaluation.loss, "\(threads) threads")
            #expect(Self.relativeError(split.gradients, one.gradients) < 1e-12, "\(threads) threads")
            #expect(Self.relativeError(split.state, one.state) < 1e-12, "\(threads) threads")
            #expect(split.batchesTracked == one.batchesTracked)
        }
    }

    @Test("evaluation in chunks of samples gives the loss and accuracy of the whole batch at once", arguments: models)
    func chunkedEvaluation(_ architecture: Architecture) {
        let network = Self.network(architecture, threads: 1)
        var generator = RandomGenerator(seed: 12)
        let (n, size) = (70, architecture.side * architecture.side * architecture.channels)
        var images = (0..<n * size).map { _ in generator.normal() }
        let labels = (0..<n).map { _ in Int32(generator.integer(below: architecture.classes)) }
        let shape = Shape(n: n, height: architecture.side, width: architecture.side, channels: architecture.channels)
        let (chunked, whole) = images.withUnsafeMutableBufferPointer { x in
            labels.withUnsafeBufferPointer { y in
                let chunked = network.loss(Tensor(x.baseAddress!, shape), labels: y.baseAddress!)
                let logits = network.forward(Tensor(x.baseAddress!, shape), mode: .evaluation)
                return (chunked, SoftmaxCrossEntropy<Double>().forward(logits, labels: y.baseAddress!))
            }
        }
        #expect(n > 2 * 32, "more than two chunks")
        #expect(abs(chunked.loss - whole.loss) < 1e-13 * whole.loss)
        #expect(chunked.correct == whole.correct && chunked.count == n)
    }
}
