import LandscapeCore

/// Batch normalisation over channels (Ioffe and Szegedy 2015) with PyTorch's `nn.BatchNorm2d`
/// semantics: `y = gamma * (x - mean) / sqrt(var + eps) + beta`, eps 1e-5.
///
/// In training the batch's mean and biased variance over the `m = n * h * w` values of a channel
/// normalise, and the running statistics move by momentum 0.1 towards the mean and the *unbiased*
/// variance `var * m / (m - 1)`. In evaluation the running statistics normalise.
/// Per-channel sums are taken in `T` over blocks of `block` rows and added up in Double, so Float
/// statistics of large batches stay exact to rounding while the loop over rows stays in Float (with
/// Double accumulators it converts every value and adds half as many per instruction). When a
/// network splits a batch between threads, each stack's layer adds its partial sums to the others'
/// (`ChannelSums`), so the statistics are those of the whole batch.
///
/// With 16 to 64 Float channels on a processor with AVX-512 (`Scalar.normalizesDirectly`), the
/// passes over the rows (the statistics' block sums, the normalisation, backward's sums and input
/// gradient) run in C kernels that keep every per-channel value in a register, with the same
/// arithmetic in the same order.
public final class BatchNorm2d<T: Scalar> {
    public static var epsilon: Double { 1e-5 }
    public static var momentum: Double { 0.1 }

    public let channels: Int
    let scale: UnsafeMutablePointer<T>, shift: UnsafeMutablePointer<T>
    let scaleGradient: UnsafeMutablePointer<T>, shiftGradient: UnsafeMutablePointer<T>
    let runningMean: UnsafeMutablePointer<T>, runningVariance: UnsafeMutablePointer<T>

    private let output = Buffer<T>(count: 0)
    private let inputGradient = Buffer<T>(count: 0)
    /// The mean in `T` and `1 / sqrt(var + eps)` of the last forward: with its input, still held by
    /// the layer before, backward recomputes `xhat = (x - mean) * invStd` to the same bits instead of
    /// forward writing it out.
    private let center: Buffer<T>
    private let invStd: Buffer<T>
    private let coefficients = Buffer<T>(count: 0)
    private let sum = Buffer<Double>(count: 0), sumOfProducts = Buffer<Double>(count: 0)
    /// The sums of the current block of rows, two per channel.
    private let blockSums = Buffer<T>(count: 0)
    /// The statistics' sums of every block of rows, where a kernel computes them (`Scalar.batchNormBlockSums`).
    private let allBlockSums = Buffer<T>(count: 0)
    /// This stack's mean and sum of squared deviations from it, per channel.
    private let local = Buffer<Double>(count: 0)
    /// Rows summed in `T` before their sums are added in Double.
    static var block: Int { 64 }
    private var input: Tensor<T>?
    private var lastMode = Mode.train
    /// Values per channel in the whole batch of the last training pass.
    private var batchRows = 0
    private let replica: Replica
    private let sums: ChannelSums
    /// Whether the convolution before this layer applies it in inference passes
    /// (`Conv2d.absorb`), so that forward then passes its input through.
    var isAbsorbed = false
    /// Whether this layer also applies the ReLU that follows it, `y = max(bn(x), 0)` in the same
    /// pass; backward then passes the output gradient only where `y > 0`, as the ReLU would, with
    /// `y` recomputed to the same bits alongside `xhat` rather than read back.
    var rectifies = false
    /// `rectifies` as the floor of `max(_, floor)`: -infinity leaves every value as it is.
    var floor: T { rectifies ? 0 : -.infinity }
    /// The max-pool after this layer (and its ReLU). A pass that a backward may follow pools this
    /// layer's output as it computes it (`MaxPool2d.poolActivation`), where the windows tile the
    /// images, so the full-size output is never written out and read back. Backward needs only the
    /// pool's positions, and recomputes the ReLU's test from the input.
    var pool: MaxPool2d<T>?
    /// Whether the last forward pooled its output and backward reads the pooled gradient and the
    /// pool's positions in place of the full-size gradient, which the pool's backward then does not
    /// write: in training, with the batch-norm kernels (`Scalar.normalizesDirectly`).
    private var readsPooledGradient = false

    init(channels: Int, scaleOffset: Int, shiftOffset: Int, meanOffset: Int, varianceOffset: Int,
         parameters: ParameterVector<T>, gradients: ParameterVector<T>, state: ParameterVector<T>,
         replica: Replica, sums: ChannelSums) {
        self.channels = channels
        self.replica = replica
        self.sums = sums
        scale = parameters.pointer + scaleOffset
        shift = parameters.pointer + shiftOffset
        scaleGradient = gradients.pointer + scaleOffset
        shiftGradient = gradients.pointer + shiftOffset
        runningMean = state.pointer + meanOffset
        runningVariance = state.pointer + varianceOffset
        center = Buffer(count: channels)
        invStd = Buffer(count: channels)
        sum.reserve(2 * channels + 1)
        sumOfProducts.reserve(channels)
        blockSums.reserve(2 * channels)
        local.reserve(2 * channels)
    }

    /// `inference`: an evaluation pass that no backward follows. `residual`, a tensor of `x`'s
    /// shape, makes the output `max(bn(x) + residual, 0)`, the end of a residual block, in the same
    /// pass (for a layer that does not rectify and is not absorbed); backward is still that of
    /// `bn(x)` alone.
    func forward(_ x: Tensor<T>, mode: Mode, inference: Bool = false, residual: Tensor<T>? = nil) -> Tensor<T> {
        precondition(x.shape.channels == channels, "BatchNorm2d: expects \(channels) channels, got shape \(x.shape)")
        if let residual {
            precondition(residual.shape == x.shape && !rectifies && !(inference && isAbsorbed),
                         "BatchNorm2d: a residual of shape \(residual.shape) needs shape \(x.shape) and a layer that neither rectifies nor is absorbed")
        }
        readsPooledGradient = false
        if inference && isAbsorbed {
            input = nil  // no backward through a pass the convolution did
            return x
        }
        output.reserve(x.shape.count)
        input = x
        lastMode = mode
        let rows = x.shape.pixels
        let (mean, centered) = (sum.pointer, sumOfProducts.pointer)
        switch mode {
        case .evaluation:
            for c in 0..<channels {
                mean[c] = Double(runningMean[c])
                invStd.pointer[c] = T(1 / (Double(runningVariance[c]) + Self.epsilon).squareRoot())
            }
        case .training(let updatesStatistics):
            meanAndVariance(x.pointer, rows: rows, mean: mean, variance: centered)
            precondition(batchRows > 1, "BatchNorm2d: training needs more than one value per channel, got shape \(x.shape)")
            for c in 0..<channels {
                invStd.pointer[c] = T(1 / (centered[c] + Self.epsilon).squareRoot())
            }
            if updatesStatistics && replica.index == 0 {
                let m = Self.momentum
                let unbiased = Double(batchRows) / Double(batchRows - 1)
                for c in 0..<channels {
                    runningMean[c] = T((1 - m) * Double(runningMean[c]) + m * mean[c])
                    runningVariance[c] = T((1 - m) * Double(runningVariance[c]) + m * centered[c] * unbiased)
                }
            }
        }
        for c in 0..<channels { center.pointer[c] = T(mean[c]) }
        let (mu, inverse, floor) = (center.pointer, invStd.pointer, floor)
        /// The output at a value of channel `c`.
        @inline(__always) func normalize(_ value: T, _ c: Int) -> T {
            max(scale[c] * ((value - mu[c]) * inverse[c]) + shift[c], floor)
        }
        if !inference, residual == nil, let pool, pool.poolsActivation(of: x.shape) {
            guard T.normalizesDirectly(channels: channels) else { return pool.poolActivation(of: x, normalize) }
            readsPooledGradient = mode != .evaluation
            return pool.poolActivation(of: x, handsGradientBack: readsPooledGradient) { best, positions in
                T.batchNormNormalizePooled(x: x.pointer, height: x.shape.height, width: x.shape.width, rows: rows, channels: channels,
                                           center: mu, invStd: inverse, scale: scale, shift: shift, floor: floor, y: best,
                                           positions: positions)
            }
        }
        if T.normalizesDirectly(channels: channels) {
            T.batchNormNormalize(x: x.pointer, residual: residual.map { UnsafePointer($0.pointer) }, rows: rows, channels: channels,
                                 center: mu, invStd: inverse, scale: scale, shift: shift, floor: residual == nil ? floor : 0,
                                 y: output.pointer)
            return Tensor(output.pointer, x.shape)
        }
        if let residual {
            for row in 0..<rows {
                let (input, other, y) = (x.pointer + row * channels, residual.pointer + row * channels, output.pointer + row * channels)
                for c in 0..<channels {
                    let xhat = (input[c] - mu[c]) * inverse[c]
                    y[c] = max(scale[c] * xhat + shift[c] + other[c], 0)
                }
            }
            return Tensor(output.pointer, x.shape)
        }
        for row in 0..<rows {
            let (input, y) = (x.pointer + row * channels, output.pointer + row * channels)
            for c in 0..<channels { y[c] = normalize(input[c], c) }
        }
        return Tensor(output.pointer, x.shape)
    }

    /// Evaluation mode as an affine map per channel, `y = a * x + b` with
    /// `a = gamma / sqrt(var + eps)` and `b = beta - mean * a`, plus `a * bias` when an `x` has a
    /// bias added before (in Double, rounded once).
    func evaluationAffine(scale a: UnsafeMutablePointer<T>, shift b: UnsafeMutablePointer<T>, after bias: UnsafePointer<T>?) {
        for c in 0..<channels {
            let factor = Double(scale[c]) / (Double(runningVariance[c]) + Self.epsilon).squareRoot()
            a[c] = T(factor)
            b[c] = T(Double(shift[c]) + (Double(bias?[c] ?? 0) - Double(runningMean[c])) * factor)
        }
    }

    /// Mean and biased variance of each column over the whole batch (all stacks' rows) in one pass
    /// over this stack's rows; sets `batchRows`. `mean` has room for one more value, the row count,
    /// which is summed with the channels.
    ///
    /// Each block of rows sums, in `T`, its values' deviations from the block's first row and their
    /// squares, which give the block's mean and sum of squared deviations from it without the
    /// cancellation of raw sums of squares; blocks, and then stacks, combine by the pairwise formula
    /// of Chan, Golub and LeVeque (1979), `M2 = M2_a + M2_b + delta^2 * n_a * n_b / n`, in Double.
    private func meanAndVariance(_ x: UnsafePointer<T>, rows: Int, mean: UnsafeMutablePointer<Double>, variance: UnsafeMutablePointer<Double>) {
        let (localMean, localM2) = (local.pointer, local.pointer + channels)
        localMean.update(repeating: 0, count: 2 * channels)
        // With the kernel, every block's sums at once; else each block's in `blockSums` in turn.
        let direct = T.normalizesDirectly(channels: channels)
        if direct {
            allBlockSums.reserve((rows + Self.block - 1) / Self.block * 2 * channels)
            T.batchNormBlockSums(x: x, rows: rows, channels: channels, block: Self.block, out: allBlockSums.pointer)
        }
        var count = 0.0
        for start in Swift.stride(from: 0, to: rows, by: Self.block) {
            let (first, end) = (x + start * channels, min(start + Self.block, rows))
            let deviations = direct ? allBlockSums.pointer + start / Self.block * 2 * channels : blockSums.pointer
            let squares = deviations + channels
            if !direct {
                deviations.update(repeating: 0, count: 2 * channels)
                for row in start + 1..<end {
                    let values = x + row * channels
                    for c in 0..<channels {
                        let d = values[c] - first[c]
                        deviations[c] += d
                        squares[c] += d * d
                    }
                }
            }
            let (n, total) = (Double(end - start), count + Double(end - start))
            for c in 0..<channels {
                let sum = Double(deviations[c])
                let delta = Double(first[c]) + sum / n - localMean[c]
                localMean[c] += delta * n / total
                localM2[c] += max(0, Double(squares[c]) - sum * sum / n) + delta * delta * count * n / total
            }
            count = total
        }
        // The batch mean from the stacks' sums, then each stack's squared deviations from it.
        for c in 0..<channels { mean[c] = localMean[c] * count }
        mean[channels] = count
        sums.allReduce(mean, count: channels + 1, phase: 0, replica: replica.index)
        batchRows = Int(mean[channels])
        for c in 0..<channels {
            mean[c] /= Double(batchRows)
            let offset = localMean[c] - mean[c]
            variance[c] = localM2[c] + count * offset * offset
        }
        sums.allReduce(variance, count: channels, phase: 1, replica: replica.index)
        for c in 0..<channels { variance[c] /= Double(batchRows) }
    }

    /// Training mode: `dx = gamma * invStd / m * (m * dy - sum(dy) - xhat * sum(dy * xhat))`, since
    /// the batch statistics depend on every input; the sums are over the whole batch. Evaluation
    /// mode: `dx = gamma * invStd * dy`. Both: `dgamma = sum(dy * xhat)`, `dbeta = sum(dy)` over this
    /// stack's rows (the network adds the stacks' gradients). Where the layer rectifies, `dy` is
    /// first zeroed where the output was not positive.
    func backward(_ outputGradient: Tensor<T>) -> Tensor<T> {
        guard let x = input else { preconditionFailure("BatchNorm2d.backward called before forward") }
        let shape = x.shape
        let pooled = readsPooledGradient ? pool.map { (positions: $0.recordedPositions, height: shape.height, width: shape.width) } : nil
        let expected = readsPooledGradient ? pool?.outputShape(shape) ?? shape : shape
        precondition(outputGradient.shape == expected, "BatchNorm2d.backward: output gradient \(outputGradient.shape), expected \(expected)")
        let (mu, inverse, gamma, beta) = (center.pointer, invStd.pointer, scale, shift)
        let passesAll: T = rectifies ? 0 : 1
        /// `xhat` and the output gradient after the ReLU's backward, at `(row, c)`. The output is
        /// recomputed as forward computed it; 1 or 0 by arithmetic, so the loops vectorize.
        @inline(__always) func normalized(_ values: UnsafePointer<T>, _ dy: UnsafePointer<T>, _ c: Int) -> (xhat: T, g: T) {
            let xhat = (values[c] - mu[c]) * inverse[c]
            let passes: T = (gamma[c] * xhat + beta[c] > 0 ? 1 : 0) + passesAll
            let gradient = dy[c]
            return (xhat, passes > 0 ? gradient : 0)
        }
        let rows = shape.pixels
        // Both sums side by side, so a split batch adds them up across stacks in one go.
        let (dyTotal, dyXhatTotal) = (sum.pointer, sum.pointer + channels)
        sum.pointer.update(repeating: 0, count: 2 * channels)
        let (partialDy, partialDyXhat) = (blockSums.pointer, blockSums.pointer + channels)
        // Training with 16 to 64 channels on AVX-512: every per-channel value in a register.
        let direct = lastMode != .evaluation && T.normalizesDirectly(channels: channels)
        if direct {
            T.batchNormGradientSums(x: x.pointer, dy: outputGradient.pointer, pooled: pooled, rows: rows, channels: channels, center: mu,
                                    invStd: inverse, scale: gamma, shift: beta, rectifies: rectifies, block: Self.block, sums: sum.pointer)
        } else {
            for start in Swift.stride(from: 0, to: rows, by: Self.block) {
                partialDy.update(repeating: 0, count: 2 * channels)
                for row in start..<min(start + Self.block, rows) {
                    let (dy, values) = (outputGradient.pointer + row * channels, x.pointer + row * channels)
                    for c in 0..<channels {
                        let (xhat, g) = normalized(values, dy, c)
                        partialDy[c] += g
                        partialDyXhat[c] += g * xhat
                    }
                }
                for c in 0..<2 * channels { sum.pointer[c] += Double(partialDy[c]) }
            }
        }
        for c in 0..<channels {
            shiftGradient[c] = T(dyTotal[c])
            scaleGradient[c] = T(dyXhatTotal[c])
        }
        inputGradient.reserve(shape.count)
        let dx = inputGradient.pointer
        if lastMode == .evaluation {
            for row in 0..<rows {
                let (dy, values, out) = (outputGradient.pointer + row * channels, x.pointer + row * channels, dx + row * channels)
                for c in 0..<channels { out[c] = gamma[c] * inverse[c] * normalized(values, dy, c).g }
            }
        } else {
            // The gradient has this stack's sums; the batch statistics need everyone's.
            sums.allReduce(sum.pointer, count: 2 * channels, phase: 2, replica: replica.index)
            // Per channel, the factor and the two sums in T, so the loop over rows converts nothing.
            let m = T(batchRows)
            coefficients.reserve(3 * channels)
            let (factor, dyTotalT, dyXhatTotalT) = (coefficients.pointer, coefficients.pointer + channels, coefficients.pointer + 2 * channels)
            for c in 0..<channels {
                factor[c] = gamma[c] * inverse[c] / m
                dyTotalT[c] = T(dyTotal[c])
                dyXhatTotalT[c] = T(dyXhatTotal[c])
            }
            if direct {
                T.batchNormInputGradient(x: x.pointer, dy: outputGradient.pointer, pooled: pooled, rows: rows, channels: channels, center: mu,
                                         invStd: inverse, scale: gamma, shift: beta, rectifies: rectifies, factor: factor,
                                         dyTotal: dyTotalT, dyXhatTotal: dyXhatTotalT, count: m, dx: dx)
            } else {
                for row in 0..<rows {
                    let (dy, values, out) = (outputGradient.pointer + row * channels, x.pointer + row * channels, dx + row * channels)
                    for c in 0..<channels {
                        let (xhat, g) = normalized(values, dy, c)
                        out[c] = factor[c] * (m * g - dyTotalT[c] - xhat * dyXhatTotalT[c])
                    }
                }
            }
        }
        return Tensor(dx, shape)
    }
}

