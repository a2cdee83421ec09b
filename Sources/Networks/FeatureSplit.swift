import LandscapeCore

/// A training pass of a dense network on several threads that splits every layer's features
/// between them rather than the batch: each thread computes its share of the features for the
/// whole batch.
///
/// Split by samples, every thread multiplies its rows by every whole weight matrix: OpenBLAS packs
/// each matrix once per thread and per product, and each thread writes a whole gradient vector, to
/// be added to the others' after the pass. Split by features, a thread reads only its share of each
/// weight matrix's rows and writes only its share of the gradient, which no other thread touches;
/// every product has the whole batch as rows. The price is a barrier per layer each way: a layer
/// reads every feature of its input, and its input gradient every column of its output gradient.
///
/// - Forward, thread `t` computes the columns `share(outputs, t)` of each layer's output (bias and
///   ReLU included) from the whole input.
/// - The loss splits the batch by samples, each thread the logits of its rows.
/// - Backward, a thread holds its columns of a layer's output gradient `dz` (after the ReLU's mask).
///   From them and the layer's input it computes its rows of the weight gradient and its entries of
///   the bias gradient; after a barrier, its columns of the input gradient (the whole of `dz` times
///   its columns of the weight), masked by the previous ReLU. Those are its columns of the previous
///   layer's `dz`, as the shares of a layer's outputs and the next layer's inputs are the same.
///
/// Shares are whole multiples of 16 features where they can be, so that two threads never write to
/// one cache line of a row. Results depend on the thread count only through rounding.
final class FeatureSplit<T: Scalar> {
    /// A linear layer bound to the network's vectors, and whether a ReLU follows it.
    private struct Dense {
        let inputs: Int, outputs: Int
        let weight: UnsafeMutablePointer<T>, weightGradient: UnsafeMutablePointer<T>
        let bias: UnsafeMutablePointer<T>, biasGradient: UnsafeMutablePointer<T>
        var rectifies = false
    }

    private let layers: [Dense]
    /// Each layer's output (after its ReLU) and the gradient with respect to its output before the ReLU.
    private let outputs: [Buffer<T>]
    private let outputGradients: [Buffer<T>]
    /// A layer's input gradient before the previous ReLU's mask, which then writes it to that
    /// layer's `outputGradients` (a select from one buffer to another vectorizes; in place it did not).
    private let unmasked = Buffer<T>(count: 0)
    /// One loss per thread, each over the rows of its part of the batch.
    private var criteria: [SoftmaxCrossEntropy<T>] = []

    /// The split for `specs` over inputs of `inputShape`, or nil when the network is not a stack of
    /// linear layers with ReLUs between them, behind a flatten that moves nothing (one channel), or
    /// when the input gradient is wanted.
    init?(specs: [LayerSpec], inputShape: Shape, parameters: ParameterVector<T>, gradients: ParameterVector<T>,
          computesInputGradient: Bool) {
        guard !computesInputGradient else { return nil }
        var remaining = specs[...]
        if remaining.first == .flatten {
            guard inputShape.channels == 1 || inputShape.height * inputShape.width == 1 else { return nil }
            remaining = remaining.dropFirst()
        }
        var layers: [Dense] = []
        var features = inputShape.sampleSize
        for spec in remaining {
            switch spec {
            case let .linear(name, inputs, outputs) where inputs == features:
                guard let weight = parameters.layout.entry(named: "\(name).weight"),
                      let bias = parameters.layout.entry(named: "\(name).bias") else { return nil }
                layers.append(Dense(inputs: inputs, outputs: outputs,
                                    weight: parameters.pointer + weight.offset, weightGradient: gradients.pointer + weight.offset,
                                    bias: parameters.pointer + bias.offset, biasGradient: gradients.pointer + bias.offset))
                features = outputs
            case .relu where layers.last?.rectifies == false:
                layers[layers.count - 1].rectifies = true
            default:
                return nil
            }
        }
        // The logits are the last layer's output as it is.
        guard let last = layers.last, !last.rectifies else { return nil }
        self.layers = layers
        outputs = layers.map { _ in Buffer<T>(count: 0) }
        outputGradients = layers.map { _ in Buffer<T>(count: 0) }
    }

    /// Thread `part`'s features of `count`: whole blocks of 16, as evenly as they divide.
    static func share(of count: Int, part: Int, parties: Int) -> Range<Int> {
        let blocks = (count + 15) / 16
        return min(count, part * blocks / parties * 16) ..< min(count, (part + 1) * blocks / parties * 16)
    }

    /// Sizes the buffers for a batch of `n` and the loss of `parties` threads; before the threads run.
    func reserve(batch n: Int, parties: Int) {
        for (layer, (output, gradient)) in zip(layers, zip(outputs, outputGradients)) {
            output.reserve(n * layer.outputs)
            gradient.reserve(n * layer.outputs)
            unmasked.reserve(n * layer.inputs)
        }
        while criteria.count < parties { criteria.append(SoftmaxCrossEntropy()) }
    }

    /// Thread `part`'s share of forward, loss and backward for the batch `x`, writing its share of
    /// the network's gradients; returns how many of its samples (`samples(part)`) were classified
    /// correctly. Every one of `parties` threads calls it at once, with the same `barrier`.
    func run(_ x: Tensor<T>, labels: UnsafePointer<Int32>, smoothing: Double, part: Int, parties: Int, barrier: SpinBarrier) -> Int {
        let n = x.shape.n
        var input = UnsafePointer(x.pointer)
        for (layer, output) in zip(layers, outputs) {
            let own = Self.share(of: layer.outputs, part: part, parties: parties), y = output.pointer + own.lowerBound
            if !own.isEmpty {
                T.gemm(transposeA: false, transposeB: true, m: n, n: own.count, k: layer.inputs,
                       alpha: 1, a: input, lda: layer.inputs, b: layer.weight + own.lowerBound * layer.inputs, ldb: layer.inputs,
                       beta: 0, c: y, ldc: layer.outputs)
                RowKernels.addToEveryRow(layer.bias + own.lowerBound, y, rows: n, columns: own.count, rowStride: layer.outputs,
                                         floor: layer.rectifies ? 0 : -.infinity)
            }
            barrier.wait()  // every feature of the output, for the next layer
            input = UnsafePointer(output.pointer)
        }

        let classes = layers[layers.count - 1].outputs
        let rows = samples(part, of: n, parties: parties)
        let criterion = criteria[part]
        let correct = criterion.forward(Tensor(outputs[layers.count - 1].pointer + rows.lowerBound * classes, Shape(n: rows.count, features: classes)),
                                        labels: labels + rows.lowerBound, smoothing: smoothing, batch: n).correct
        (outputGradients[layers.count - 1].pointer + rows.lowerBound * classes).update(from: criterion.backward().pointer, count: rows.count * classes)
        barrier.wait()  // every row of the logits' gradient

        for index in layers.indices.reversed() {
            let layer = layers[index], dz = UnsafePointer(outputGradients[index].pointer)
            let input = index == 0 ? UnsafePointer(x.pointer) : UnsafePointer(outputs[index - 1].pointer)
            let own = Self.share(of: layer.outputs, part: part, parties: parties)
            if !own.isEmpty {
                T.gemm(transposeA: true, transposeB: false, m: own.count, n: layer.inputs, k: n,
                       alpha: 1, a: dz + own.lowerBound, lda: layer.outputs, b: input, ldb: layer.inputs,
                       beta: 0, c: layer.weightGradient + own.lowerBound * layer.inputs, ldc: layer.inputs)
                RowKernels.sumRows(dz + own.lowerBound, rows: n, columns: own.count, rowStride: layer.outputs,
                                   into: layer.biasGradient + own.lowerBound)
            }
            guard index > 0 else { break }
            barrier.wait()  // every column of dz
            let previous = Self.share(of: layer.inputs, part: part, parties: parties)
            guard !previous.isEmpty else { continue }
            let dInput = outputGradients[index - 1].pointer + previous.lowerBound
            let rectifies = layers[index - 1].rectifies
            T.gemm(transposeA: false, transposeB: false, m: n, n: previous.count, k: layer.outputs,
                   alpha: 1, a: dz, lda: layer.outputs, b: layer.weight + previous.lowerBound, ldb: layer.inputs,
                   beta: 0, c: rectifies ? unmasked.pointer + previous.lowerBound : dInput, ldc: layer.inputs)
            if rectifies {
                let (from, y) = (unmasked.pointer + previous.lowerBound, input + previous.lowerBound)
                for row in 0..<n {
                    let at = row * layer.inputs
                    RowKernels.rectifiedGradient(from + at, output: y + at, into: dInput + at, count: previous.count)
                }
            }
        }
        return correct
    }

    /// The rows of the batch whose loss thread `part` computes.
    func samples(_ part: Int, of n: Int, parties: Int) -> Range<Int> { part * n / parties ..< (part + 1) * n / parties }

    /// Each sample's loss in thread `part`'s rows of the last pass.
    func sampleLosses(_ part: Int) -> UnsafeBufferPointer<Double> { criteria[part].sampleLosses }
}
