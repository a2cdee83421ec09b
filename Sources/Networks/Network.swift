import LandscapeCore

/// The loss and accuracy of a batch or a data set.
public struct Evaluation: Sendable, Equatable {
    /// Mean loss per sample.
    public var loss: Double
    public var correct: Int
    public var count: Int

    public init(loss: Double, correct: Int, count: Int) {
        self.loss = loss
        self.correct = correct
        self.count = count
    }

    /// Percent of samples classified correctly.
    public var accuracy: Double { count == 0 ? 0 : 100 * Double(correct) / Double(count) }

    /// The evaluation of two disjoint sets together (losses weighted by their counts).
    public func merged(with other: Evaluation) -> Evaluation {
        let count = count + other.count
        let loss = count == 0 ? 0 : (loss * Double(self.count) + other.loss * Double(other.count)) / Double(count)
        return Evaluation(loss: loss, correct: correct + other.correct, count: count)
    }
}

/// A network of the zoo with its parameter vector, gradient vector and batch-norm state, and the
/// layer objects bound to them.
///
/// The network owns all memory its layers use; after the first training step at the largest batch
/// size, forward and backward allocate nothing.
public final class Network<T: Scalar> {
    /// The zoo model this is, when it is one (a checkpoint records it).
    public let architecture: Architecture?
    /// All trainable tensors, PyTorch names and shapes, in one vector.
    public let parameters: ParameterVector<T>
    /// Gradients of the loss in the layout of `parameters`; `backward` overwrites them.
    public let gradients: ParameterVector<T>
    /// Batch-norm running means and variances.
    public let state: ParameterVector<T>
    /// PyTorch's `num_batches_tracked`: training passes that updated the running statistics.
    public var batchesTracked = 0
    /// The shape of one input sample (`n` is 1).
    public let inputShape: Shape

    /// The layers as values, and whether the input gradient is computed: enough to build a copy.
    public let specs: [LayerSpec]
    private let computesInputGradient: Bool
    private let hasBatchNorm: Bool

    /// Threads `lossAndGradient` and `loss` split a batch between, all processors by default: each
    /// runs a stack of layers of its own on a contiguous part, calling OpenBLAS single-threaded
    /// (`BLASThreads`), and batch-norm adds up its statistics across them. A dense network's
    /// passes hand out pieces of work instead (`FeatureSplit`). Results depend on it only through
    /// rounding.
    public var threads: Int
    /// Stack 0 writes `gradients`; the others write their own vectors, added to it after a pass.
    private var stacks: [LayerStack<T>]
    private let group = ReplicaGroup()
    /// A dense network's passes on several threads, in pieces the threads take as they come free.
    private let featureSplit: FeatureSplit<T>?
    private var workers: WorkerThreads?
    /// The slices `forEachSlice` hands out.
    private let sliceClaims = WorkClaims(phases: 1)
    /// Samples each stack classified correctly in the last split pass.
    private let partCorrect = Buffer<Int>(count: 0)
    private let zeroLabels = Buffer<Int32>(count: 0)

    /// A zoo model with all tensors zero; call `initialize(seed:)` or load a checkpoint.
    public convenience init(_ architecture: Architecture) {
        self.init(layers: architecture.layers,
                  inputShape: Shape(n: 1, height: architecture.side, width: architecture.side, channels: architecture.channels),
                  architecture: architecture)
    }

    /// Any stack of layers over inputs of `inputShape` (its `n` is ignored). With
    /// `computesInputGradient`, `backward` also returns the gradient with respect to the input.
    public init(layers specs: [LayerSpec], inputShape: Shape, computesInputGradient: Bool = false, architecture: Architecture? = nil) {
        self.architecture = architecture
        self.specs = specs
        self.computesInputGradient = computesInputGradient
        self.inputShape = inputShape.with(n: 1)
        var parameterLayout = ParameterLayout()
        var stateLayout = ParameterLayout()
        for spec in specs { spec.register(parameters: &parameterLayout, state: &stateLayout) }
        parameters = ParameterVector(layout: parameterLayout)
        gradients = ParameterVector(layout: parameterLayout)
        state = ParameterVector(layout: stateLayout)
        hasBatchNorm = stateLayout.count > 0
        threads = WorkerThreads.processors
        BLASThreads.useCallingThread()
        featureSplit = FeatureSplit(specs: specs, inputShape: inputShape, parameters: parameters, gradients: gradients,
                                    computesInputGradient: computesInputGradient)
        stacks = []  // `makeStack` numbers a stack by the ones before it
        stacks = [makeStack(gradients: gradients)]
    }

    private func makeStack(gradients: ParameterVector<T>) -> LayerStack<T> {
        LayerStack(specs: specs, parameters: parameters, gradients: gradients, state: state,
                   computesInputGradient: computesInputGradient, replica: Replica(index: stacks.count, group: group))
    }

    /// An independent network with the same layers, parameters, statistics and batch count (for
    /// evaluating on several threads at once).
    public func copy() -> Network<T> {
        let copy = Network(layers: specs, inputShape: inputShape, computesInputGradient: computesInputGradient, architecture: architecture)
        copy.parameters.copy(from: parameters)
        copy.state.copy(from: state)
        copy.batchesTracked = batchesTracked
        copy.threads = threads
        return copy
    }

    /// The model's name for messages.
    public var name: String { architecture?.name ?? "custom network" }

    /// PyTorch's default initialisation (see `Initialization.pytorchDefault`), drawn from a seeded
    /// generator in layout order; running means 0 and variances 1.
    public func initialize(seed: UInt64) {
        var generator = RandomGenerator(seed: seed)
        parameters.initialize(using: &generator)
        state.initialize(using: &generator)
        batchesTracked = 0
    }

    /// Starts the threads and sizes the buffers of evaluating batches of up to `batch` samples, with
    /// one evaluation pass over zeros, which touches neither parameters nor running statistics. (A
    /// training step sizes the rest on its first call.)
    public func reserve(batch: Int) {
        let input = Buffer<T>(count: inputShape.with(n: batch).count)
        zeroLabels.reserve(batch)
        _ = loss(Tensor(input, inputShape.with(n: batch)), labels: zeroLabels.pointer)
    }

    /// The logits of a batch of images (`n x side x side x channels`, channels-last), on the calling
    /// thread alone.
    public func forward(_ x: Tensor<T>, mode: Mode) -> Tensor<T> {
        checkInput(x)
        if mode == .train && hasBatchNorm { batchesTracked += 1 }
        group.begin(parties: 1)
        return stacks[0].forward(x, mode: mode)
    }

    /// Back-propagates the gradient of the loss with respect to the output of the last `forward`
    /// into `gradients`; returns the gradient with respect to the input when the network was built
    /// to compute it.
    @discardableResult
    public func backward(_ dOutput: Tensor<T>) -> Tensor<T>? {
        stacks[0].backward(dOutput)
    }

    /// Forward, loss and backward for one batch, split between `threads`; `gradients` then hold the
    /// gradient of the batch's mean loss.
    @discardableResult
    public func lossAndGradient(_ x: Tensor<T>, labels: UnsafePointer<Int32>, smoothing: Double = 0, mode: Mode = .train) -> Evaluation {
        split(x, labels: labels, smoothing: smoothing, mode: mode, backward: true, update: nil)
    }

    /// `lossAndGradient`, with `update` called on slices of the parameter vector that together
    /// cover it once, on the threads, each when its gradient is final and the pass reads those
    /// parameters no more: an optimizer step fused with the pass (`Optimizer.step(_:_:labels:)`).
    @discardableResult
    public func lossAndGradient(_ x: Tensor<T>, labels: UnsafePointer<Int32>, smoothing: Double = 0, mode: Mode = .train,
                                update: (Range<Int>) -> Void) -> Evaluation {
        withoutActuallyEscaping(update) { split(x, labels: labels, smoothing: smoothing, mode: mode, backward: true, update: $0) }
    }

    /// The loss and accuracy of one batch, without gradients, split between `threads`.
    public func loss(_ x: Tensor<T>, labels: UnsafePointer<Int32>, smoothing: Double = 0, mode: Mode = .evaluation) -> Evaluation {
        split(x, labels: labels, smoothing: smoothing, mode: mode, backward: false, update: nil)
    }

    /// Runs `body` on consecutive slices of `0..<count` that together cover it, on the threads in
    /// parallel: element-wise work on vectors of the network's size between passes (an optimizer
    /// step) then uses the cores as the passes do. The slices (at least four per thread, of at
    /// least 16,384 elements when there are enough) are claimed by runs (`WorkClaims`): each
    /// thread takes the same slices every time while the threads keep pace.
    public func forEachSlice(of count: Int, _ body: (Range<Int>) -> Void) {
        let parties = max(1, min(threads, count))
        guard parties > 1 else { return body(0..<count) }
        let slices = min(count, max(4 * parties, count / 16_384))
        sliceClaims.reset(parties: parties)
        workers(parties).run { part in
            sliceClaims.forEach(slices, phase: 0, part: part) { slice in body(slice * count / slices ..< (slice + 1) * count / slices) }
        }
    }

    /// The worker threads for `parties` parts, made anew when that number changes.
    private func workers(_ parties: Int) -> WorkerThreads {
        if let workers, workers.count == parties { return workers }
        let made = WorkerThreads(count: parties)
        workers = made
        return made
    }

    private func checkInput(_ x: Tensor<T>) {
        precondition(x.shape.with(n: 1) == inputShape, "Network \(name): input shape \(x.shape), expected \(inputShape.with(n: x.shape.n))")
    }

    /// Runs the stacks on contiguous parts of the batch, one thread each, then (with `backward`)
    /// adds their gradients into `gradients`, each thread a slice, in stack order, and calls
    /// `update` on it. Results depend on the split only through rounding: the order of sums, and
    /// GEMMs of fewer rows.
    private func split(_ x: Tensor<T>, labels: UnsafePointer<Int32>, smoothing: Double, mode: Mode, backward: Bool,
                       update: ((Range<Int>) -> Void)?) -> Evaluation {
        checkInput(x)
        if mode == .train && hasBatchNorm { batchesTracked += 1 }
        let n = x.shape.n
        let parties = max(1, min(threads, n))
        group.begin(parties: parties)
        if parties > 1, let featureSplit {
            return split(x, labels: labels, smoothing: smoothing, parties: parties, backward: backward, update: update, featureSplit)
        }
        while stacks.count < parties { stacks.append(makeStack(gradients: ParameterVector(layout: parameters.layout))) }
        partCorrect.reserve(parties)
        let (stacks, partCorrect, sampleSize) = (self.stacks, self.partCorrect.pointer, x.shape.sampleSize)
        if parties == 1 {
            partCorrect[0] = stacks[0].run(x, labels: labels, smoothing: smoothing, mode: mode, batch: n, backward: backward)
            update?(0..<parameters.count)
        } else {
            let (workers, barrier, count, sum) = (workers(parties), group.barrier, parameters.count, gradients.pointer)
            workers.run { part in
                let (start, end) = (part * n / parties, (part + 1) * n / parties)
                let samples = Tensor(x.pointer + start * sampleSize, x.shape.with(n: end - start))
                partCorrect[part] = stacks[part].run(samples, labels: labels + start, smoothing: smoothing, mode: mode, batch: n, backward: backward)
                guard backward else { return }
                barrier.wait()
                let own = part * count / parties ..< (part + 1) * count / parties
                for other in stacks[1..<parties] {
                    let g = other.gradients.pointer
                    for i in own { sum[i] += g[i] }
                }
                update?(own)
            }
        }
        var total = 0.0
        for part in 0..<parties {
            for loss in stacks[part].sampleLosses { total += loss }
        }
        return evaluation(n: n, parties: parties, totalLoss: total)
    }

    /// The batch's evaluation from the sum of the samples' losses, added in batch order as one
    /// thread adds them, and `partCorrect`.
    private func evaluation(n: Int, parties: Int, totalLoss: Double) -> Evaluation {
        let correct = (0..<parties).reduce(0) { $0 + partCorrect.pointer[$1] }
        return Evaluation(loss: totalLoss / Double(n), correct: correct, count: n)
    }

    /// A dense network's pass on `parties` threads (`FeatureSplit`): with `backward`, its features
    /// split between them, writing `gradients` directly; without, its samples.
    private func split(_ x: Tensor<T>, labels: UnsafePointer<Int32>, smoothing: Double, parties: Int, backward: Bool,
                       update: ((Range<Int>) -> Void)?, _ featureSplit: FeatureSplit<T>) -> Evaluation {
        featureSplit.prepare(batch: x.shape.n, parties: parties)
        partCorrect.reserve(parties)
        let (partCorrect, barrier) = (self.partCorrect.pointer, group.barrier)
        workers(parties).run { part in
            partCorrect[part] = backward
                ? featureSplit.train(x, labels: labels, smoothing: smoothing, part: part, parties: parties, barrier: barrier, update: update)
                : featureSplit.evaluate(x, labels: labels, smoothing: smoothing, part: part, barrier: barrier)
        }
        var total = 0.0
        for loss in featureSplit.sampleLosses { total += loss }
        return evaluation(n: x.shape.n, parties: parties, totalLoss: total)
    }
}
