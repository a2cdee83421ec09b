import LandscapeCore

/// A 2-D convolution with square kernel, stride and zero padding (PyTorch's `nn.Conv2d`, one group,
/// no dilation), weight `[out, in, k, k]`, optional bias `[out]`.
///
/// Activations are channels-last. Forward unrolls the input into a matrix `cols` of
/// `n * oh * ow` rows by `k * k * in` columns, ordered `(ky, kx, in)` so that each kernel position
/// contributes one contiguous run of channels, and multiplies it by the weight: `y = cols * W'^T`,
/// which is the channels-last output. `W'` is the weight permuted from PyTorch's `(in, ky, kx)`
/// order into `(ky, kx, in)`, a small copy made per pass. Backward is two more GEMMs,
/// `dW' = dy^T * cols` (permuted back into PyTorch's order) and `dcols = dy * W'`, and `dcols` is
/// folded back onto the input (col2im).
///
/// The rows of `cols` are unrolled and multiplied a chunk at a time, a chunk being about 512 KB of
/// columns: the GEMM then reads them from the core's cache, not from memory, which makes these
/// narrow GEMMs about twice as fast, and the column matrices (in a workspace shared by all
/// convolutions of a network) stay small. `dW'` adds up its chunks; backward unrolls its input
/// again instead of keeping the columns, except in a network's first layer (`keepsColumns`), which
/// with few input channels and an output of its input's size stores them transposed
/// (`unrollTransposed`).
///
/// Where the processor has a direct convolution for the element type (`Scalar.convolve`: Float
/// with AVX-512, outputs a multiple of 16), forward computes the output from zero-padded copies of
/// the input images instead, without columns (`convolvesPadded`), a network's first layer in
/// training too, and backward the weight gradient (`weighsDirectly`) and the input gradient, in
/// phases where the stride is more than 1 (`backsDirectly`).
///
/// An evaluation pass that no backward follows applies the batch-norm after the convolution here
/// (`absorb`).
public final class Conv2d<T: Scalar> {
    public let inputs: Int, outputs: Int, kernel: Int, stride: Int, padding: Int
    let weight: UnsafeMutablePointer<T>, weightGradient: UnsafeMutablePointer<T>
    let bias: UnsafeMutablePointer<T>?, biasGradient: UnsafeMutablePointer<T>?
    /// False for a network's first layer, whose input gradient nobody reads.
    let computesInputGradient: Bool

    private let workspace: ConvolutionWorkspace<T>
    /// The weight and its gradient in `(ky, kx, in)` column order.
    private let permutedWeight: Buffer<T>, permutedGradient: Buffer<T>
    private let output = Buffer<T>(count: 0)
    private let inputGradient = Buffer<T>(count: 0)
    private var input: Tensor<T>?

    /// The batch-norm that follows this convolution, which an inference pass applies here
    /// (batch-norm folded into the convolution): its scale multiplies the permuted weight, and its
    /// shift is added to each chunk of the output while the chunk is in cache, with the norm's ReLU
    /// if it has one, which saves passes over the activations. The result differs from convolving
    /// then normalising only by rounding.
    private var absorbedNorm: BatchNorm2d<T>?
    private let normScale = Buffer<T>(count: 0), normShift = Buffer<T>(count: 0)
    /// The max-pool after the absorbed norm. When its windows tile the output images, an inference
    /// pass hands it each chunk of the output as soon as the chunk is computed, while it is in
    /// cache, and adds the norm's shift and ReLU to the pooled values instead, a pass over a quarter
    /// of the values: a maximum commutes with adding a constant (rounding is monotonic) and with
    /// ReLU, so the result is the same.
    private weak var followingPool: MaxPool2d<T>?

    /// `parameters` and `gradients` are the network's vectors; the offsets locate this layer's
    /// tensors in both.
    init(inputs: Int, outputs: Int, kernel: Int, stride: Int, padding: Int,
         weightOffset: Int, biasOffset: Int?, parameters: ParameterVector<T>, gradients: ParameterVector<T>,
         computesInputGradient: Bool, workspace: ConvolutionWorkspace<T>) {
        precondition(kernel > 0 && stride > 0 && padding >= 0, "Conv2d: kernel \(kernel), stride \(stride), padding \(padding)")
        self.inputs = inputs
        self.outputs = outputs
        self.kernel = kernel
        self.stride = stride
        self.padding = padding
        weight = parameters.pointer + weightOffset
        weightGradient = gradients.pointer + weightOffset
        bias = biasOffset.map { parameters.pointer + $0 }
        biasGradient = biasOffset.map { gradients.pointer + $0 }
        self.computesInputGradient = computesInputGradient
        self.workspace = workspace
        permutedWeight = Buffer(count: outputs * inputs * kernel * kernel)
        permutedGradient = Buffer(count: outputs * inputs * kernel * kernel)
    }

    /// Makes `norm`, which must take this layer's output, part of this layer in inference passes.
    func absorb(_ norm: BatchNorm2d<T>) {
        precondition(norm.channels == outputs, "Conv2d.absorb: \(outputs) outputs, batch-norm of \(norm.channels) channels")
        absorbedNorm = norm
        norm.isAbsorbed = true
        normScale.reserve(outputs)
        normShift.reserve(outputs)
    }

    /// Makes `pool`, which must take the absorbed norm's output, pool chunks in inference passes.
    func poolChunks(with pool: MaxPool2d<T>) {
        precondition(absorbedNorm != nil, "Conv2d.poolChunks: no batch-norm absorbed")
        followingPool = pool
    }

    /// The following pool, if its windows tile output images of shape `y`.
    private func chunkPool(_ y: Shape) -> MaxPool2d<T>? {
        guard let pool = followingPool, y.height % pool.size == 0, y.width % pool.size == 0 else { return nil }
        return pool
    }

    /// Columns of the unrolled input: `k * k * in`.
    var patchSize: Int { inputs * kernel * kernel }

    /// The output shape for an input shape.
    public func outputShape(_ x: Shape) -> Shape {
        precondition(x.channels == inputs, "Conv2d: expects \(inputs) input channels, got shape \(x)")
        let height = (x.height + 2 * padding - kernel) / stride + 1
        let width = (x.width + 2 * padding - kernel) / stride + 1
        precondition(height > 0 && width > 0, "Conv2d: input \(x) is smaller than kernel \(kernel)")
        return Shape(n: x.n, height: height, width: width, channels: outputs)
    }

    /// A pointwise convolution reads its input as the column matrix directly.
    private var isPointwise: Bool { kernel == 1 && stride == 1 && padding == 0 }

    /// Copies between PyTorch's `[out][in][ky][kx]` and the columns' `[out][ky][kx][in]` order;
    /// into column order, output channel `o` is multiplied by `scale[o]` if given.
    private func permute(_ source: UnsafePointer<T>, _ destination: UnsafeMutablePointer<T>, toColumnOrder: Bool,
                         scale: UnsafePointer<T>? = nil) {
        let area = kernel * kernel
        for o in 0..<outputs {
            let (from, to) = (source + o * patchSize, destination + o * patchSize)
            let factor = scale?[o] ?? 1
            for c in 0..<inputs {
                for position in 0..<area {
                    if toColumnOrder {
                        to[position * inputs + c] = from[c * area + position] * factor
                    } else {
                        to[c * area + position] = from[position * inputs + c]
                    }
                }
            }
        }
    }

    /// Rows of the column matrix unrolled and multiplied at a time: about 2^17 values, 512 KB in
    /// Float, in whole rows of the output image. When a max-pool takes each chunk as it is computed
    /// (`pooling` its size), in pairs (or triples...) of image rows and with at most 2^16 output
    /// values, so that the pool reads them from cache.
    private func chunkRows(_ y: Shape, pooling: Int = 1) -> Int {
        let rows = pooling == 1 ? (1 << 17) / patchSize : min((1 << 17) / patchSize, (1 << 16) / outputs)
        let block = pooling * y.width
        return max(1, rows / block) * block
    }

    /// The first layer of a network (no input gradient), where it is not convolved directly, keeps
    /// all its columns from forward for backward, which then needs them only for the weight
    /// gradient: its input has few channels, so they are small, and unrolling a single-channel image
    /// is a tenth of a training step.
    private var keepsColumns: Bool { !computesInputGradient && !isPointwise && !T.convolvesDirectly(outputs: outputs) }
    private let keptColumns = Buffer<T>(count: 0)

    /// A first layer with few input channels whose output keeps its input's height and width
    /// (stride 1, padding `(k - 1) / 2`) stores each chunk's column matrix transposed
    /// (`unrollTransposed`); the GEMMs read it either way, and it is never folded back.
    private var columnsTransposed: Bool { keepsColumns && inputs < 4 && stride == 1 && 2 * padding == kernel - 1 }
    /// The leading dimension of a chunk's column matrix of `rows` rows.
    private func columnStride(_ rows: Range<Int>) -> Int { columnsTransposed ? rows.count : patchSize }

    /// Calls `body(rows, columns)` for consecutive chunks of the column matrix's rows, with the
    /// chunk's columns (for a pointwise convolution, the input's rows themselves), unrolled when
    /// `unrolling`, else as forward kept them.
    private func forEachChunk(of x: Tensor<T>, outputShape y: Shape, unrolling: Bool = true, pooling: Int = 1,
                              _ body: (Range<Int>, UnsafeMutablePointer<T>) -> Void) {
        if isPointwise { return body(0..<y.pixels, x.pointer) }
        if keepsColumns { keptColumns.reserve(y.pixels * patchSize) }
        forEachRowChunk(y, pooling: pooling) { rows in
            // The first chunk is the largest, so the shared columns grow at most once.
            if !keepsColumns { workspace.columns.reserve(rows.count * patchSize) }
            let columns = keepsColumns ? keptColumns.pointer + rows.lowerBound * patchSize : workspace.columns.pointer
            if unrolling && columnsTransposed {
                unrollTransposed(x, rows: rows, into: columns)
            } else if unrolling {
                unroll(x, rows: rows, into: columns, outputShape: y)
            }
            body(rows, columns)
        }
    }

    /// Calls `body` for consecutive chunks of the output's rows, `chunkRows` each but the last.
    private func forEachRowChunk(_ y: Shape, pooling: Int, _ body: (Range<Int>) -> Void) {
        let chunk = min(chunkRows(y, pooling: pooling), y.pixels)
        for start in Swift.stride(from: 0, to: y.pixels, by: chunk) { body(start..<min(start + chunk, y.pixels)) }
    }

    /// `inference`: an evaluation pass that no backward follows, which applies the absorbed norm.
    /// `residual` (inference only): a tensor of the output's shape, added after the norm and
    /// followed by a ReLU, `max(bn(conv(x)) + residual, 0)`, the end of a residual block.
    func forward(_ x: Tensor<T>, inference: Bool = false, residual: Tensor<T>? = nil) -> Tensor<T> {
        let y = outputShape(x.shape)
        if let residual {
            precondition(inference && residual.shape == y && followingPool == nil && absorbedNorm.map { !$0.rectifies } == true,
                         "Conv2d.forward: a residual of shape \(residual.shape) needs an inference pass, an absorbed norm without ReLU, no pool and shape \(y)")
        }
        output.reserve(y.count)
        input = x
        var (shift, floor) = (bias.map { UnsafePointer($0) }, -T.infinity)
        var pool: MaxPool2d<T>?
        if inference, let absorbedNorm {
            floor = absorbedNorm.floor
            absorbedNorm.evaluationAffine(scale: normScale.pointer, shift: normShift.pointer, after: bias)
            permute(weight, permutedWeight.pointer, toColumnOrder: true, scale: normScale.pointer)
            shift = UnsafePointer(normShift.pointer)
            pool = chunkPool(y)
        } else {
            permute(weight, permutedWeight.pointer, toColumnOrder: true)
        }
        pool?.startPoolingChunks(of: y)
        /// The chunk of output rows just computed, pooled if the pool takes it, with the shift, the
        /// residual and ReLU.
        func finish(_ rows: Range<Int>) {
            let out = output.pointer + rows.lowerBound * outputs
            // The shift and ReLU go on the pooled values when the pool takes the chunk.
            let (values, count) = pool?.poolChunk(out, rows: rows, of: y) ?? (out, rows.count)
            if let residual, let shift {
                RowKernels.addToEveryRow(shift, values, plus: residual.pointer + rows.lowerBound * outputs, rows: count, columns: outputs, floor: 0)
            } else if let shift {
                RowKernels.addToEveryRow(shift, values, rows: count, columns: outputs, floor: floor)
            }
        }
        if convolvesPadded(inference: inference) {
            preparePaddedImage(x.shape, border: padding)
            directWeight.reserve(patchSize * outputs)
            for o in 0..<outputs {
                for position in 0..<patchSize { directWeight.pointer[position * outputs + o] = permutedWeight.pointer[o * patchSize + position] }
            }
            forEachRowChunk(y, pooling: pool?.size ?? 1) { rows in
                convolvePadded(x, border: padding, stride: stride, rows: rows, outputShape: y, into: output.pointer + rows.lowerBound * outputs)
                finish(rows)
            }
            return Tensor(output.pointer, y)
        }
        forEachChunk(of: x, outputShape: y, pooling: pool?.size ?? 1) { rows, cols in
            T.gemm(transposeA: columnsTransposed, transposeB: true, m: rows.count, n: outputs, k: patchSize,
                   alpha: 1, a: cols, lda: columnStride(rows), b: permutedWeight.pointer, ldb: patchSize, beta: 0,
                   c: output.pointer + rows.lowerBound * outputs, ldc: outputs)
            finish(rows)
        }
        return Tensor(output.pointer, y)
    }

    /// A forward pass is convolved directly (`Scalar.convolve`) from zero-padded copies of its input
    /// images where the processor and the number of outputs allow it, except where a convolution
    /// reads its input as the columns as they are (pointwise) or a training pass keeps the columns
    /// for backward (a first layer). The unrolled columns, and the GEMM's packed copy of them, are
    /// then never written: each input value is read from cache by the `k * k` positions that use it.
    private func convolvesPadded(inference: Bool) -> Bool {
        T.convolvesDirectly(outputs: outputs) && !isPointwise && (inference || !keepsColumns)
    }

    /// The input gradient is itself made of convolutions: `dx[i] = sum over (ky, kx, o) of
    /// dy[(i + p - (ky, kx)) / s][o] * w[o][:][ky][kx]` over the terms where the division is exact.
    /// The input pixels of one phase, `i = s * j + a` for a fixed `a` in each direction, take the
    /// kernel rows `ky = a + p - s * d` for consecutive `d`, the output gradient's row `j + d`: each
    /// phase is a stride-1 convolution of the output gradient, zero-bordered, by those kernel
    /// positions' weights turned (larger `d`, smaller `ky`) with inputs and outputs swapped, written
    /// to every `s`-th pixel (`Phase`). With stride 1 there is one phase, the whole weight turned by
    /// 180 degrees. Where the processor has the direct convolution for `in` outputs, backward
    /// computes them so, instead of multiplying into column gradients and folding them back.
    private var backsDirectly: Bool { computesInputGradient && !isPointwise && T.convolvesDirectly(outputs: inputs) }

    /// The phases of the last input gradient computed directly, for inputs of shape `input`, and the
    /// border the output gradient takes for them.
    private var phases: (input: Shape, rows: [Phase], columns: [Phase], border: Int)?

    /// One phase along one axis: its first input position `a`, its first output-gradient offset
    /// `d` (which may be negative), its number of kernel positions and of input positions.
    private struct Phase {
        let first: Int, offset: Int, taps: Int, positions: Int

        /// The phases along an axis of `size` input positions and `outputSize` output positions.
        static func along(size: Int, outputSize: Int, kernel: Int, stride: Int, padding: Int) -> [Phase] {
            (0..<min(stride, size)).map { a in
                // Kernel rows ky = a + p - s * d in 0 ..< k: d from ceil((a + p - k + 1) / s) to floor((a + p) / s).
                let high = (a + padding).quotientAndRemainder(dividingBy: stride).quotient
                let lowNumerator = a + padding - kernel + 1
                let low = lowNumerator >= 0 ? (lowNumerator + stride - 1) / stride : -((-lowNumerator) / stride)
                return Phase(first: a, offset: low, taps: max(0, high - low + 1), positions: (size - a + stride - 1) / stride)
            }
        }

        /// The zero border the output gradient needs on each side for this phase to read it.
        func border(outputSize: Int) -> Int { taps == 0 ? 0 : max(0, -offset, positions - 1 + offset + taps - 1 - (outputSize - 1)) }
    }

    /// The image `convolvePadded` last copied into the workspace's padded image, in this pass.
    private var paddedImage: Int?
    /// The weight as the direct convolution of the current pass reads it, `[ky][kx][from][to]`: for
    /// forward the permuted weight with `from` the inputs; for `backsDirectly` each phase's turned
    /// kernel positions with `from` the outputs, one phase after another.
    private let directWeight = Buffer<T>(count: 0)

    /// Sizes and zeroes the workspace's padded image for images of shape `x` with a zero border of
    /// `border` pixels; `convolvePadded` then writes only its interior.
    private func preparePaddedImage(_ x: Shape, border: Int) {
        let count = (x.height + 2 * border) * (x.width + 2 * border) * x.channels
        workspace.padded.reserve(count)
        workspace.padded.zero(count)
        paddedImage = nil
    }

    /// Copies image `n` of `x` into the interior of the workspace's padded image, unless it is there.
    private func padImage(_ n: Int, of x: Tensor<T>, border: Int) {
        guard paddedImage != n else { return }
        let (width, channels) = (x.shape.width, x.shape.channels)
        let paddedWidth = width + 2 * border
        for iy in 0..<x.shape.height {
            (workspace.padded.pointer + ((iy + border) * paddedWidth + border) * channels)
                .update(from: x.pointer + n * x.shape.sampleSize + iy * width * channels, count: width * channels)
        }
        paddedImage = n
    }

    /// Output pixels `rows` (whole image rows) of convolving images `x`, with a zero border of
    /// `border` pixels, by `directWeight` with `stride`, into images of shape `y`: written to `into`
    /// (row `rows.lowerBound`), image by image, each copied into the padded one first.
    private func convolvePadded(_ x: Tensor<T>, border: Int, stride: Int, rows: Range<Int>, outputShape y: Shape,
                                into: UnsafeMutablePointer<T>) {
        let (paddedWidth, channels) = (x.shape.width + 2 * border, x.shape.channels)
        var imageRow = rows.lowerBound / y.width
        while imageRow < rows.upperBound / y.width {
            let (n, oy) = imageRow.quotientAndRemainder(dividingBy: y.height)
            let last = min(y.height, oy + rows.upperBound / y.width - imageRow)
            padImage(n, of: x, border: border)
            T.convolve(padded: workspace.padded.pointer, paddedWidth: paddedWidth, inputs: channels, kernelHeight: kernel, kernelWidth: kernel,
                       stride: stride, weight: directWeight.pointer, outputs: y.channels, rows: oy..<last, outputWidth: y.width,
                       output: into + (imageRow * y.width - rows.lowerBound) * y.channels, outputPixel: y.channels,
                       outputRow: y.width * y.channels, accumulating: false)
            imageRow += last - oy
        }
    }

    /// Writes the gradients of this layer's parameters (overwriting) and returns the input gradient
    /// (nil for the first layer). With `target`, a tensor of the input's shape, the input gradient
    /// is added to it in place and `target` returned (a residual block's two paths).
    func backward(_ dy: Tensor<T>, addingTo target: Tensor<T>? = nil) -> Tensor<T>? {
        guard let x = input else { preconditionFailure("Conv2d.backward called before forward") }
        let y = outputShape(x.shape)
        precondition(dy.shape == y, "Conv2d.backward: output gradient \(dy.shape), expected \(y)")
        precondition(target.map { $0.shape == x.shape } ?? true, "Conv2d.backward: a target of shape \(target!.shape), expected \(x.shape)")
        permute(weight, permutedWeight.pointer, toColumnOrder: true)
        if computesInputGradient && target == nil {
            inputGradient.reserve(x.shape.count)
            if !isPointwise && !backsDirectly { inputGradient.pointer.update(repeating: 0, count: x.shape.count) }
        }
        let dx = target?.pointer ?? inputGradient.pointer
        if backsDirectly { backDirectly(dy, inputShape: x.shape, outputShape: y, into: dx, accumulating: target != nil) }
        if weighsDirectly {
            directGradient.reserve(patchSize * outputs)
            directGradient.zero(patchSize * outputs)
            let byTaps = T.weighsByTaps(inputs: inputs, kernel: kernel)
            if byTaps { preparePaddedImage(x.shape, border: padding) }
            for n in 0..<x.shape.n {
                let gradient = dy.pointer + n * y.sampleSize
                if byTaps {
                    padImage(n, of: x, border: padding)
                    T.convolutionWeightGradientByTaps(padded: workspace.padded.pointer, paddedWidth: x.shape.width + 2 * padding, inputs: inputs,
                                                      kernel: kernel, stride: stride, gradient: gradient, outputs: outputs,
                                                      outputHeight: y.height, outputWidth: y.width, weightGradient: directGradient.pointer)
                } else {
                    T.convolutionWeightGradient(image: x.pointer + n * x.shape.sampleSize, height: x.shape.height, width: x.shape.width,
                                                inputs: inputs, kernel: kernel, stride: stride, padding: padding, gradient: gradient,
                                                outputs: outputs, outputHeight: y.height, outputWidth: y.width,
                                                weightGradient: directGradient.pointer)
                }
            }
            let area = kernel * kernel
            for o in 0..<outputs {
                for c in 0..<inputs {
                    for position in 0..<area {
                        weightGradient[(o * inputs + c) * area + position] = directGradient.pointer[(position * inputs + c) * outputs + o]
                    }
                }
            }
        }
        if !weighsDirectly || (computesInputGradient && !backsDirectly) {
            backwardByColumns(dy, x: x, outputShape: y, into: dx, adding: target != nil)
        }
        if !weighsDirectly { permute(permutedGradient.pointer, weightGradient, toColumnOrder: false) }
        if let biasGradient { RowKernels.sumRows(dy.pointer, rows: y.pixels, columns: outputs, rowStride: outputs, into: biasGradient) }
        return computesInputGradient ? Tensor(dx, x.shape) : nil
    }

    /// The input gradient by phases (`backsDirectly`, `Phase`), image by image, written to `dx` or
    /// added to it.
    private func backDirectly(_ dy: Tensor<T>, inputShape x: Shape, outputShape y: Shape, into dx: UnsafeMutablePointer<T>,
                              accumulating: Bool) {
        if phases?.input != x {
            let rows = Phase.along(size: x.height, outputSize: y.height, kernel: kernel, stride: stride, padding: padding)
            let columns = Phase.along(size: x.width, outputSize: y.width, kernel: kernel, stride: stride, padding: padding)
            let border = (rows.map { $0.border(outputSize: y.height) } + columns.map { $0.border(outputSize: y.width) }).max() ?? 0
            phases = (x, rows, columns, border)
        }
        guard let (_, rows, columns, border) = phases else { return }
        // Each phase's turned weights, `[t][u][o][c]`, one after another: the phases share out the kernel.
        directWeight.reserve(patchSize * outputs)
        var filled = 0
        for row in rows {
            for column in columns {
                for t in 0..<row.taps {
                    for u in 0..<column.taps {
                        let (ky, kx) = (row.first + padding - stride * (row.offset + t), column.first + padding - stride * (column.offset + u))
                        for o in 0..<outputs {
                            for c in 0..<inputs {
                                directWeight.pointer[filled + ((t * column.taps + u) * outputs + o) * inputs + c] =
                                    weight[((o * inputs + c) * kernel + ky) * kernel + kx]
                            }
                        }
                    }
                }
                filled += row.taps * column.taps * outputs * inputs
            }
        }
        // Pixels that no kernel position reaches (a phase without taps) get no term.
        if !accumulating && (rows.contains { $0.taps == 0 } || columns.contains { $0.taps == 0 }) { dx.update(repeating: 0, count: x.count) }
        preparePaddedImage(y, border: border)
        let paddedWidth = y.width + 2 * border
        for n in 0..<x.n {
            padImage(n, of: dy, border: border)
            var phaseWeight = directWeight.pointer
            for row in rows {
                for column in columns where row.taps > 0 && column.taps > 0 {
                    defer { phaseWeight += row.taps * column.taps * outputs * inputs }
                    T.convolve(padded: workspace.padded.pointer + ((border + row.offset) * paddedWidth + border + column.offset) * outputs,
                               paddedWidth: paddedWidth, inputs: outputs, kernelHeight: row.taps, kernelWidth: column.taps, stride: 1,
                               weight: phaseWeight, outputs: inputs,
                               rows: 0..<row.positions, outputWidth: column.positions,
                               output: dx + n * x.sampleSize + (row.first * x.width + column.first) * inputs,
                               outputPixel: stride * inputs, outputRow: stride * x.width * inputs, accumulating: accumulating)
                }
            }
        }
    }

    /// The weight gradient is computed directly too where forward could have been, image by image:
    /// with few input channels (a stem's) from the padded image, every tap side by side
    /// (`Scalar.convolutionWeightGradientByTaps`), else from the input, each kernel position over
    /// the output pixels whose input lies inside the image (`Scalar.convolutionWeightGradient`).
    private var weighsDirectly: Bool { T.convolvesDirectly(outputs: outputs) && !isPointwise }
    /// The weight gradient as the direct kernel adds it up, `[ky][kx][in][out]`.
    private let directGradient = Buffer<T>(count: 0)

    /// The unrolled backward, a chunk of columns at a time: the weight gradient unless computed
    /// directly, `dW' = dy^T * cols` into `permutedGradient`, and the input gradient unless computed
    /// directly, `dcols = dy * W'` folded onto `dx` (which holds zeros or, `adding`, a gradient).
    private func backwardByColumns(_ dy: Tensor<T>, x: Tensor<T>, outputShape y: Shape, into dx: UnsafeMutablePointer<T>, adding: Bool) {
        forEachChunk(of: x, outputShape: y, unrolling: !keepsColumns && !weighsDirectly) { rows, cols in
            let g = dy.pointer + rows.lowerBound * outputs
            if !weighsDirectly {
                T.gemm(transposeA: true, transposeB: columnsTransposed, m: outputs, n: patchSize, k: rows.count,
                       alpha: 1, a: g, lda: outputs, b: cols, ldb: columnStride(rows), beta: rows.lowerBound == 0 ? 0 : 1,
                       c: permutedGradient.pointer, ldc: patchSize)
            }
            guard computesInputGradient && !backsDirectly else { return }
            if isPointwise {
                T.gemm(transposeA: false, transposeB: false, m: rows.count, n: patchSize, k: outputs,
                       alpha: 1, a: g, lda: outputs, b: permutedWeight.pointer, ldb: patchSize, beta: adding ? 1 : 0,
                       c: dx, ldc: patchSize)
                return
            }
            workspace.columnGradient.reserve(rows.count * patchSize)
            T.gemm(transposeA: false, transposeB: false, m: rows.count, n: patchSize, k: outputs,
                   alpha: 1, a: g, lda: outputs, b: permutedWeight.pointer, ldb: patchSize, beta: 0,
                   c: workspace.columnGradient.pointer, ldc: patchSize)
            fold(workspace.columnGradient.pointer, rows: rows, into: dx, inputShape: x.shape, outputShape: y)
        }
    }

    /// Calls `body(column, pixel, count)` for every row in `rows` (whole output image rows) of the
    /// column matrix and kernel position `(ky, kx)` whose input pixel lies inside the image, with
    /// the offsets of the runs of `count` values: `column` into the chunk's columns (which start at
    /// row `rows.lowerBound`), `pixel` into the batch; `outside(column, count)` for the positions
    /// outside. A run is one pixel's `in` channels, or, where a whole kernel row lies inside the
    /// image, that row's `k * in` values, which are contiguous on both sides.
    ///
    /// Image row by image row, then kernel row by kernel row, then output pixel by output pixel, so
    /// that the pixels whose kernel rows lie inside the image are a plain loop. An input pixel gets
    /// at most one run from each output row, so the runs onto it come in the order of their output
    /// pixels, as in a pass pixel by pixel: folding adds them up in that order.
    @inline(__always)
    private func forEachRun(_ x: Shape, _ y: Shape, rows: Range<Int>, outside: (Int, Int) -> Void, _ body: (Int, Int, Int) -> Void) {
        let run = kernel * inputs
        // The output columns whose kernel rows start at or after the image's first column and end
        // at or before its last.
        let lower = min((padding + stride - 1) / stride, y.width)
        let last = x.width + padding - kernel
        let whole = lower..<max(lower, last < 0 ? 0 : min(y.width, last / stride + 1))
        let firstImageRow = rows.lowerBound / y.width
        for imageRow in firstImageRow..<rows.upperBound / y.width {
            let (n, oy) = imageRow.quotientAndRemainder(dividingBy: y.height)
            let rowStart = (imageRow - firstImageRow) * y.width * patchSize
            for ky in 0..<kernel {
                let iy = oy * stride - padding + ky
                let start = rowStart + ky * run  // the columns of output pixel 0 and this kernel row
                guard iy >= 0 && iy < x.height else {
                    for ox in 0..<y.width { outside(start + ox * patchSize, run) }
                    continue
                }
                let line = n * x.sampleSize + iy * x.width * inputs  // the input row
                func edge(_ ox: Int) {
                    for kx in 0..<kernel {
                        let (ix, column) = (ox * stride - padding + kx, start + ox * patchSize + kx * inputs)
                        if ix >= 0 && ix < x.width { body(column, line + ix * inputs, inputs) } else { outside(column, inputs) }
                    }
                }
                for ox in 0..<whole.lowerBound { edge(ox) }
                for ox in whole { body(start + ox * patchSize, line + (ox * stride - padding) * inputs, run) }
                for ox in whole.upperBound..<y.width { edge(ox) }
            }
        }
    }

    /// im2col for `rows`: row `(n, oy, ox)`, columns `(ky, kx, :)` hold the channels of
    /// `x[n, oy*s - p + ky, ox*s - p + kx, :]`, zero outside the image.
    private func unroll(_ x: Tensor<T>, rows: Range<Int>, into cols: UnsafeMutablePointer<T>, outputShape y: Shape) {
        let source = x.pointer
        // Plain loops (with few channels a memcpy call per run costs more than the copy) over
        // pointers offset once: an index sum in the loop would be overflow-checked and stay scalar.
        forEachRun(x.shape, y, rows: rows, outside: { column, count in
            let to = cols + column
            for c in 0..<count { to[c] = 0 }
        }) { column, pixel, count in
            let (to, from) = (cols + column, source + pixel)
            for c in 0..<count { to[c] = from[c] }
        }
    }

    /// im2col for `rows` (whole output image rows) into the transposed column matrix, `patchSize`
    /// rows of `rows.count`, for a convolution whose output keeps its input's height and width. Row
    /// `(ky, kx, c)` holds channel `c` of input pixel `(oy + ky - p, ox + kx - p)` for each output
    /// pixel `(oy, ox)`, so across the whole chunk it is channel `c` of the input's pixels shifted
    /// by `(ky - p) * width + kx - p`: one run, copied at once, after which the places where the
    /// kernel position falls outside the image are zeroed (the first or last `|ky - p|` rows of
    /// every image, the first or last `|kx - p|` columns of every image row). The plain layout has
    /// runs of only `in` values for few channels, and its bookkeeping per run costs more than the
    /// copy.
    private func unrollTransposed(_ x: Tensor<T>, rows: Range<Int>, into cols: UnsafeMutablePointer<T>) {
        let (height, width, pixels) = (x.shape.height, x.shape.width, x.shape.pixels)
        for ky in 0..<kernel {
            for kx in 0..<kernel {
                let shift = (ky - padding) * width + kx - padding
                // The rows whose shifted pixel lies in the batch.
                let lower = min(max(rows.lowerBound, -shift), rows.upperBound)
                let copied = lower..<max(lower, min(rows.upperBound, pixels - shift))
                for c in 0..<inputs {
                    let row = cols + ((ky * kernel + kx) * inputs + c) * rows.count
                    let (to, from) = (row + copied.lowerBound - rows.lowerBound, x.pointer + (copied.lowerBound + shift) * inputs + c)
                    if inputs == 1 {  // a separate loop, which vectorizes
                        for i in 0..<copied.count { to[i] = from[i] }
                    } else {
                        for i in 0..<copied.count { to[i] = from[i * inputs] }
                    }
                    for i in 0..<copied.lowerBound - rows.lowerBound { row[i] = 0 }
                    for i in copied.upperBound - rows.lowerBound..<rows.count { row[i] = 0 }
                    zeroOutside(row, rows: rows, height: height, width: width, dy: ky - padding, dx: kx - padding)
                }
            }
        }
    }

    /// Zeroes the values of a transposed column row (`row`, for whole output image rows `rows`)
    /// whose input pixel, the output pixel's shifted by `(dy, dx)`, lies outside its image.
    private func zeroOutside(_ row: UnsafeMutablePointer<T>, rows: Range<Int>, height: Int, width: Int, dy: Int, dx: Int) {
        let (first, last) = (rows.lowerBound / width, rows.upperBound / width)
        var oy = first % height
        for imageRow in first..<last {
            defer { oy = oy + 1 == height ? 0 : oy + 1 }
            let values = row + (imageRow - first) * width
            if oy + dy < 0 || oy + dy >= height {
                for ox in 0..<width { values[ox] = 0 }
            } else if dx < 0 {
                for ox in 0..<min(-dx, width) { values[ox] = 0 }
            } else if dx > 0 {
                for ox in max(0, width - dx)..<width { values[ox] = 0 }
            }
        }
    }

    /// col2im for `rows`, the adjoint of `unroll`: each run of the columns is added onto the pixels
    /// it came from.
    private func fold(_ cols: UnsafeMutablePointer<T>, rows: Range<Int>, into dx: UnsafeMutablePointer<T>, inputShape x: Shape, outputShape y: Shape) {
        forEachRun(x, y, rows: rows, outside: { _, _ in }) { column, pixel, count in
            let (to, from) = (dx + pixel, cols + column)
            for c in 0..<count { to[c] += from[c] }
        }
    }
}

/// Scratch memory for the column matrices of convolutions, shared by the layers of one network
/// (they run one at a time).
final class ConvolutionWorkspace<T: Scalar> {
    let columns = Buffer<T>(count: 0)
    let columnGradient = Buffer<T>(count: 0)
    /// One input image with its zero border, for direct convolutions.
    let padded = Buffer<T>(count: 0)
}
