import LandscapeCore

/// A dense network's passes on several threads, in pieces of work the threads take until none is
/// left. A training pass cuts every layer's work into pieces of 32 features, each for the whole
/// batch; an evaluation pass, into pieces of 64 samples, each through every layer.
///
/// Split by samples, every thread of a training pass multiplies its rows by every whole weight
/// matrix: OpenBLAS packs each matrix once per thread and per product, and each thread writes a
/// whole gradient vector, to be added to the others' after the pass. Split by features, each weight
/// matrix is read once, each gradient entry is written once, and every product has the whole batch
/// as rows. The price is a barrier per layer each way: a layer reads every feature of its input,
/// and its gradients every column of its output gradient.
///
/// Pieces are claimed as threads come free, each thread from a run of its own first (`WorkClaims`),
/// not dealt out in advance: the cores of a shared machine run at different speeds from one moment
/// to the next, and a fixed split waits at every barrier for the slower one. Each piece is computed
/// the same way whichever thread takes it, so the result does not depend on the threads.
///
/// Training:
/// - The batch is first transposed, in pieces of 32 input features (one more barrier).
/// - Forward, a piece is 32 of a layer's outputs (bias and ReLU included) for the whole batch: those
///   rows of the weight times the transposed input, which gives them feature-major, as the next
///   layer's forward reads its input; the piece then transposes them into the sample-major output
///   that backward and the loss read.
/// - The loss splits the batch by samples, each thread the logits of its rows.
/// - Backward, with a later layer's output gradient `dz` complete (after the ReLU's mask), a piece
///   is 32 of the layer's inputs: those columns of the weight gradient (`dz^T x`) and of the input
///   gradient (`dz w`), masked by the previous ReLU, which are the previous layer's `dz`. One more
///   piece is the bias gradient.
/// - The first layer has no input gradient to compute, so its backward pieces are its forward
///   pieces again: 32 of its outputs, those rows of the weight gradient and bias gradient. The
///   same thread claims them as in the forward while the threads keep pace.
///
/// With an optimizer step fused into the pass (`Network.lossAndGradient(_:labels:smoothing:mode:update:)`),
/// each of the first layer's pieces updates its rows of the weight and bias as soon as their
/// gradients are computed, while they are in cache, on the core whose cache holds those weights
/// from the forward; the later layers' parameters (a quarter of the mlp's), whose gradients are
/// complete by then, are updated in slices claimed after them.
///
/// Products whose columns are a multiple of 16 (in the training forward, the batch's samples) go to
/// the AVX-512 kernel (`Scalar.multiply`), which reads its operands in place; others, and all
/// products in Double, go to GEMM. Transposing the activations rather than the weights moves 165k
/// values a step for the mlp instead of 268k, and values still in cache; an evaluation pass, many
/// samples per weight, transposes the weights.
///
/// An evaluation pass in pieces of samples was no faster than the batch split in halves through
/// OpenBLAS in alternating runs (10% faster in one round, 7 to 9% slower in others), but in series
/// of benches its slowest run was well above the halves' slowest: with halves, the faster core
/// waits for the slower one.
final class FeatureSplit<T: Scalar> {
    /// A linear layer bound to the network's vectors, and whether a ReLU follows it.
    private struct Dense {
        let inputs: Int, outputs: Int
        let weight: UnsafeMutablePointer<T>, weightGradient: UnsafeMutablePointer<T>
        let bias: UnsafeMutablePointer<T>, biasGradient: UnsafeMutablePointer<T>
        var rectifies = false
    }

    /// Features per piece of work: two of the kernel's vectors of 16.
    static var piece: Int { 32 }

    private let layers: [Dense]
    /// Each layer's output (after its ReLU) and the gradient with respect to its output before the ReLU.
    private let outputs: [Buffer<T>]
    private let outputGradients: [Buffer<T>]
    /// In training, the batch and each layer's output transposed (feature-major, `[features][n]`):
    /// the forward products read their input this way, and write their output this way first.
    private let transposedInput = Buffer<T>(count: 0)
    private let transposedOutputs: [Buffer<T>]
    /// A layer's input gradient before the previous ReLU's mask, which then writes it to that
    /// layer's `outputGradients` (a select from one buffer to another vectorizes; in place it did not).
    private let unmasked = Buffer<T>(count: 0)
    /// In evaluation, each layer's weight transposed (`[inputs][outputs]`), for the kernel.
    private let transposedWeights: [Buffer<T>]
    /// One loss per thread, and each sample's loss in the last pass.
    private var criteria: [SoftmaxCrossEntropy<T>] = []
    private let losses = Buffer<Double>(count: 0)
    private var lastCount = 0
    /// Where the first layer's bias lies in the parameter vector (its weight is at the start), and
    /// the parameters of the layers after it.
    private let firstBias: Range<Int>
    private let laterParameters: Range<Int>
    /// The pieces of each layer's forward, then of each layer's backward, then of the batch's
    /// transpose, then of the later layers' update (in an evaluation pass, of each layer's
    /// transposed weight, then of the samples).
    private let claims: WorkClaims

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
                // The layout registers layers in order, each weight then bias: the first layer's come first.
                precondition(!layers.isEmpty || (weight.offset == 0 && bias.offset == weight.count), "FeatureSplit: layout out of order")
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
        firstBias = layers[0].inputs * layers[0].outputs ..< layers[0].inputs * layers[0].outputs + layers[0].outputs
        laterParameters = firstBias.upperBound ..< parameters.count
        outputs = layers.map { _ in Buffer<T>(count: 0) }
        outputGradients = layers.map { _ in Buffer<T>(count: 0) }
        transposedOutputs = layers.map { _ in Buffer<T>(count: 0) }
        transposedWeights = layers.map { T.multipliesDirectly(columns: 16) ? Buffer<T>(count: $0.inputs * $0.outputs) : Buffer<T>(count: 0) }
        claims = WorkClaims(phases: 2 * layers.count + 2)
    }

    /// Sizes the buffers for a batch of `n` and the loss of `parties` threads, and puts back every
    /// layer's pieces; before the threads run.
    func prepare(batch n: Int, parties: Int) {
        for (index, layer) in layers.enumerated() {
            outputs[index].reserve(n * layer.outputs)
            outputGradients[index].reserve(n * layer.outputs)
            transposedOutputs[index].reserve(n * layer.outputs)
            unmasked.reserve(n * layer.inputs)
        }
        transposedInput.reserve(n * layers[0].inputs)
        while criteria.count < parties { criteria.append(SoftmaxCrossEntropy()) }
        losses.reserve(n)
        lastCount = n
        claims.reset(parties: parties)
    }

    /// Thread `part`'s share of forward, loss and backward for the batch `x`: the pieces it takes,
    /// written to the network's gradients, and the loss of its part of the samples; returns how many
    /// of those were classified correctly. With `update`, the step on the parameters of the first
    /// layer's pieces it takes and of the later layers' slices it claims. Every one of `parties`
    /// threads calls it at once, with the same `barrier`, after `prepare`.
    func train(_ x: Tensor<T>, labels: UnsafePointer<Int32>, smoothing: Double, part: Int, parties: Int, barrier: SpinBarrier,
               update: ((Range<Int>) -> Void)?) -> Int {
        let n = x.shape.n, inputs = layers[0].inputs
        forEachPiece(of: inputs, phase: 2 * layers.count, part: part) { features in
            T.transpose(x.pointer + features.lowerBound, rows: n, columns: features.count, sourceRow: inputs,
                        into: transposedInput.pointer + features.lowerBound * n, destinationRow: n)
        }
        barrier.wait()  // the whole batch transposed
        for index in layers.indices {
            forEachPiece(of: layers[index].outputs, phase: index, part: part) { forward(index, n: n, features: $0) }
            barrier.wait()  // every feature of the output, for the next layer
        }
        let correct = loss(rows: part * n / parties ..< (part + 1) * n / parties, of: n, labels: labels, smoothing: smoothing, part: part,
                           backward: true)

        for index in layers.indices.dropFirst().reversed() {
            barrier.wait()  // every column of the output gradient
            forEachPiece(of: layers[index].inputs, phase: layers.count + index, part: part, plusOne: true) { features in
                backward(index, input: outputs[index - 1].pointer, n: n, features: features)
            }
        }
        barrier.wait()  // every column of the first layer's output gradient; every later gradient final
        forEachPiece(of: layers[0].outputs, phase: layers.count, part: part) { features in
            firstBackward(x.pointer, n: n, features: features)
            update?(features.lowerBound * layers[0].inputs ..< features.upperBound * layers[0].inputs)
            update?(firstBias.lowerBound + features.lowerBound ..< firstBias.lowerBound + features.upperBound)
        }
        if let update {
            forEachPiece(of: laterParameters.count, phase: 2 * layers.count + 1, part: part, size: 16_384) { slice in
                update(laterParameters.lowerBound + slice.lowerBound ..< laterParameters.lowerBound + slice.upperBound)
            }
        }
        return correct
    }

    /// Thread `part`'s share of an evaluation pass (no backward) over the batch `x`: the pieces of
    /// the weights' transposes it takes, then, after a barrier, the pieces of 64 samples, each
    /// through every layer and the loss; returns how many of its samples were classified correctly.
    /// By samples, as a pass without backward needs no layer's output whole before the next layer.
    func evaluate(_ x: Tensor<T>, labels: UnsafePointer<Int32>, smoothing: Double, part: Int, barrier: SpinBarrier) -> Int {
        for (index, layer) in layers.enumerated() where T.multipliesDirectly(columns: layer.outputs) {
            forEachPiece(of: layer.outputs, phase: index, part: part) { transpose(index, features: $0) }
        }
        barrier.wait()  // every transposed weight
        var correct = 0
        forEachPiece(of: x.shape.n, phase: layers.count, part: part, size: 64) { rows in
            for index in layers.indices { forward(index, input: input(of: index, x), rows: rows) }
            correct += loss(rows: rows, of: x.shape.n, labels: labels, smoothing: smoothing, part: part, backward: false)
        }
        return correct
    }

    /// Layer `index`'s input: the batch, or the previous layer's output.
    private func input(of index: Int, _ x: Tensor<T>) -> UnsafePointer<T> {
        index == 0 ? UnsafePointer(x.pointer) : UnsafePointer(outputs[index - 1].pointer)
    }

    /// Calls `body` with each piece of `0..<count`, `size` long (and, with `plusOne`, the empty
    /// range for one more piece of work), that thread `part` claims in `phase` (`WorkClaims`).
    private func forEachPiece(of count: Int, phase: Int, part: Int, size: Int = piece, plusOne: Bool = false,
                              _ body: (Range<Int>) -> Void) {
        let pieces = (count + size - 1) / size
        claims.forEach(pieces + (plusOne ? 1 : 0), phase: phase, part: part) { piece in
            body(piece < pieces ? piece * size ..< min(count, (piece + 1) * size) : count ..< count)
        }
    }

    /// In training, layer `index`'s outputs `features` for the whole batch of `n`: the product of
    /// those rows of the weight and the transposed input, the bias and ReLU on its rows, and the
    /// result transposed into the layer's output.
    private func forward(_ index: Int, n: Int, features: Range<Int>) {
        let layer = layers[index]
        let input = index == 0 ? transposedInput.pointer : transposedOutputs[index - 1].pointer
        let transposed = transposedOutputs[index].pointer + features.lowerBound * n
        Self.multiply(layer.weight + features.lowerBound * layer.inputs, rows: features.count, rowStride: layer.inputs, depthStride: 1,
                      depth: layer.inputs, input, bRow: n, columns: n, into: transposed)
        RowKernels.addToEachRow(layer.bias + features.lowerBound, transposed, rows: features.count, columns: n,
                                floor: layer.rectifies ? 0 : -.infinity)
        T.transpose(transposed, rows: features.count, columns: n, sourceRow: n,
                    into: outputs[index].pointer + features.lowerBound, destinationRow: layer.outputs)
    }

    /// In evaluation, layer `index`'s outputs for the `rows` of `input` (the batch or the previous
    /// layer's output, whole), with the weights transposed before.
    private func forward(_ index: Int, input: UnsafePointer<T>, rows: Range<Int>) {
        let layer = layers[index]
        let x = input + rows.lowerBound * layer.inputs, y = outputs[index].pointer + rows.lowerBound * layer.outputs
        if T.multipliesDirectly(columns: layer.outputs) {
            T.multiply(x, rows: rows.count, rowStride: layer.inputs, depthStride: 1, depth: layer.inputs,
                       transposedWeights[index].pointer, bRow: layer.outputs, columns: layer.outputs, into: y, cRow: layer.outputs)
        } else {
            T.gemm(transposeA: false, transposeB: true, m: rows.count, n: layer.outputs, k: layer.inputs,
                   alpha: 1, a: x, lda: layer.inputs, b: layer.weight, ldb: layer.inputs, beta: 0, c: y, ldc: layer.outputs)
        }
        RowKernels.addToEveryRow(layer.bias, y, rows: rows.count, columns: layer.outputs, floor: layer.rectifies ? 0 : -.infinity)
    }

    /// Layer `index`'s weight rows `features` into the same columns of its transpose.
    private func transpose(_ index: Int, features: Range<Int>) {
        let layer = layers[index]
        T.transpose(layer.weight + features.lowerBound * layer.inputs, rows: features.count, columns: layer.inputs,
                    sourceRow: layer.inputs, into: transposedWeights[index].pointer + features.lowerBound, destinationRow: layer.outputs)
    }

    /// The loss of the logits' `rows` in a batch of `n`, on thread `part`: each sample's loss to
    /// `sampleLosses` and, with `backward`, the gradient of the batch's mean loss to the last
    /// layer's output gradient; returns how many were classified correctly.
    private func loss(rows: Range<Int>, of n: Int, labels: UnsafePointer<Int32>, smoothing: Double, part: Int, backward: Bool) -> Int {
        let last = layers.count - 1, classes = layers[last].outputs, criterion = criteria[part]
        let logits = Tensor(outputs[last].pointer + rows.lowerBound * classes, Shape(n: rows.count, features: classes))
        let correct = criterion.forward(logits, labels: labels + rows.lowerBound, smoothing: smoothing, batch: n, gradient: backward).correct
        (losses.pointer + rows.lowerBound).update(from: criterion.sampleLosses.baseAddress!, count: rows.count)
        if backward {
            (outputGradients[last].pointer + rows.lowerBound * classes).update(from: criterion.backward().pointer, count: rows.count * classes)
        }
        return correct
    }

    /// The first layer's weight and bias gradient for its outputs `features`: those rows of the
    /// weight gradient, contiguous in the parameter vector, `dz^T x`.
    private func firstBackward(_ x: UnsafePointer<T>, n: Int, features: Range<Int>) {
        let layer = layers[0], dz = UnsafePointer(outputGradients[0].pointer) + features.lowerBound
        Self.multiply(dz, rows: features.count, rowStride: 1, depthStride: layer.outputs, depth: n,
                      x, bRow: layer.inputs, columns: layer.inputs, into: layer.weightGradient + features.lowerBound * layer.inputs)
        RowKernels.sumRows(dz, rows: n, columns: features.count, rowStride: layer.outputs, into: layer.biasGradient + features.lowerBound)
    }

    /// A later layer's weight and input gradient in the columns `features` of its input; for the
    /// empty range, its bias gradient.
    private func backward(_ index: Int, input: UnsafePointer<T>, n: Int, features: Range<Int>) {
        let layer = layers[index], dz = UnsafePointer(outputGradients[index].pointer)
        guard !features.isEmpty else {
            return RowKernels.sumRows(dz, rows: n, columns: layer.outputs, rowStride: layer.outputs, into: layer.biasGradient)
        }
        Self.multiply(dz, rows: layer.outputs, rowStride: 1, depthStride: layer.outputs, depth: n,
                      input + features.lowerBound, bRow: layer.inputs, columns: features.count,
                      into: layer.weightGradient + features.lowerBound)
        let dInput = outputGradients[index - 1].pointer + features.lowerBound
        let rectifies = layers[index - 1].rectifies
        Self.multiply(dz, rows: n, rowStride: layer.outputs, depthStride: 1, depth: layer.outputs,
                      layer.weight + features.lowerBound, bRow: layer.inputs, columns: features.count,
                      into: rectifies ? unmasked.pointer + features.lowerBound : dInput)
        guard rectifies else { return }
        let (from, y) = (unmasked.pointer + features.lowerBound, input + features.lowerBound)
        for row in 0..<n {
            let at = row * layer.inputs
            RowKernels.rectifiedGradient(from + at, output: y + at, into: dInput + at, count: features.count)
        }
    }

    /// `c[r][j] = sum over k of a[r * rowStride + k * depthStride] * b[k][j]`, `b` and `c` both
    /// `columns` of rows `bRow` apart: by the kernel where it takes the columns, else by GEMM (`a`
    /// row-major, `depthStride` 1, or transposed, `rowStride` 1).
    private static func multiply(_ a: UnsafePointer<T>, rows: Int, rowStride: Int, depthStride: Int, depth: Int,
                                 _ b: UnsafePointer<T>, bRow: Int, columns: Int, into c: UnsafeMutablePointer<T>) {
        if T.multipliesDirectly(columns: columns) {
            T.multiply(a, rows: rows, rowStride: rowStride, depthStride: depthStride, depth: depth, b, bRow: bRow, columns: columns,
                       into: c, cRow: bRow)
            return
        }
        // One row is read as a transposed column: GEMM wants a row-major `a`'s rows at least `depth`
        // apart, however few there are, and a layer of one feature has them 1 apart.
        let transposed = depthStride != 1 || rows == 1
        T.gemm(transposeA: transposed, transposeB: false, m: rows, n: columns, k: depth, alpha: 1, a: a,
               lda: transposed ? depthStride : rowStride, b: b, ldb: bRow, beta: 0, c: c, ldc: bRow)
    }

    /// Each sample's loss in the last pass, in batch order.
    var sampleLosses: UnsafeBufferPointer<Double> { UnsafeBufferPointer(start: losses.pointer, count: lastCount) }
}
