import CBLAS
import CKernels
import RealModule

/// The element types the numeric code is written for.
///
/// Training, analysis and the benchmark use `Float`. The same layers instantiated with `Double` serve
/// the gradient checks: central finite differences `(f(x + h) - f(x - h)) / 2h` are only accurate to
/// about `eps^(2/3)` of the type, 5e-6 in Float but 4e-11 in Double, so only Double can tell a wrong
/// backward rule from rounding.
///
/// The BLAS entry points and the direct convolution below are the only place where the two types
/// differ.
public protocol Scalar: BinaryFloatingPoint, Real, SIMDScalar, Codable, Sendable {
    /// `C = alpha * op(A) * op(B) + beta * C` for row-major matrices, where `op(A)` is `m x k`,
    /// `op(B)` is `k x n` and `C` is `m x n`; `lda`, `ldb`, `ldc` are the row strides as stored.
    static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Self, a: UnsafePointer<Self>, lda: Int,
        b: UnsafePointer<Self>, ldb: Int,
        beta: Self, c: UnsafeMutablePointer<Self>, ldc: Int)

    /// `y += alpha * x` over `count` elements.
    static func axpy(count: Int, alpha: Self, x: UnsafePointer<Self>, y: UnsafeMutablePointer<Self>)

    /// `x *= alpha` over `count` elements.
    static func scale(count: Int, alpha: Self, x: UnsafeMutablePointer<Self>)

    /// The inner product of `x` and `y` over `count` elements.
    static func dot(count: Int, x: UnsafePointer<Self>, y: UnsafePointer<Self>) -> Self

    /// Whether `multiply` runs on this processor for `columns` columns. Where it does not (Double, a
    /// processor without AVX-512, a number of columns not a multiple of 16), GEMM does the product.
    static func multipliesDirectly(columns: Int) -> Bool

    /// `c[r][j] = sum over k of a[r * rowStride + k * depthStride] * b[k * bRow + j]` for `r < rows`,
    /// `j < columns`, `k < depth`, rows of `c` `cRow` apart: a product with `a` row-major
    /// (`depthStride` 1) or transposed (`rowStride` 1), read in place, without packing.
    static func multiply(_ a: UnsafePointer<Self>, rows: Int, rowStride: Int, depthStride: Int, depth: Int,
                         _ b: UnsafePointer<Self>, bRow: Int, columns: Int, into c: UnsafeMutablePointer<Self>, cRow: Int)

    /// `destination[j * destinationRow + i] = source[i * sourceRow + j]` for `i < rows`, `j < columns`:
    /// by 16 x 16 blocks in registers where `multipliesDirectly` holds, else value by value.
    static func transpose(_ source: UnsafePointer<Self>, rows: Int, columns: Int, sourceRow: Int,
                          into destination: UnsafeMutablePointer<Self>, destinationRow: Int)

    /// Whether `convolve` runs on this processor for `outputs` output channels. Where it does not
    /// (Double, a processor without AVX-512, a number of outputs not a multiple of 16), a
    /// convolution unrolls its input and multiplies.
    static func convolvesDirectly(outputs: Int) -> Bool

    /// Output rows `rows` of the convolution of one zero-padded channels-last image
    /// (`[..][paddedWidth][inputs]`) by `weight` (`[kernelHeight][kernelWidth][inputs][outputs]`) with
    /// `stride`, written to `output` or added to it (`accumulating`): output pixel `(oy, ox)` goes to
    /// `output + (oy - rows.lowerBound) * outputRow + ox * outputPixel`, which for a plain image is
    /// `[rows][outputWidth][outputs]`.
    static func convolve(padded: UnsafePointer<Self>, paddedWidth: Int, inputs: Int, kernelHeight: Int, kernelWidth: Int, stride: Int,
                         weight: UnsafePointer<Self>, outputs: Int, rows: Range<Int>, outputWidth: Int,
                         output: UnsafeMutablePointer<Self>, outputPixel: Int, outputRow: Int, accumulating: Bool)

    /// Adds the terms of one channels-last image (`[height][width][inputs]`, no border) in the
    /// gradient of the weight of a convolution with `stride` and zero padding `padding` to
    /// `weightGradient` (`[kernel][kernel][inputs][outputs]`), for the output gradient `gradient`
    /// (`[outputHeight][outputWidth][outputs]`).
    static func convolutionWeightGradient(image: UnsafePointer<Self>, height: Int, width: Int, inputs: Int, kernel: Int, stride: Int,
                                          padding: Int, gradient: UnsafePointer<Self>, outputs: Int, outputHeight: Int, outputWidth: Int,
                                          weightGradient: UnsafeMutablePointer<Self>)

    /// Whether `convolutionWeightGradientByTaps` takes `inputs` channels and a `kernel x kernel`
    /// kernel (a stem's few channels), where `convolvesDirectly` holds.
    static func weighsByTaps(inputs: Int, kernel: Int) -> Bool

    /// `convolutionWeightGradient` for few input channels, from the image zero-padded by the
    /// convolution's padding (`[..][paddedWidth][inputs]`): each `(ky, kx, c)` tap's sum in a
    /// register of its own, over every output pixel.
    static func convolutionWeightGradientByTaps(padded: UnsafePointer<Self>, paddedWidth: Int, inputs: Int, kernel: Int, stride: Int,
                                                gradient: UnsafePointer<Self>, outputs: Int, outputHeight: Int, outputWidth: Int,
                                                weightGradient: UnsafeMutablePointer<Self>)

    /// Whether the `batchNorm` kernels run on this processor for `channels` channels. Where they do
    /// not, batch-norm loops over rows and channels.
    static func normalizesDirectly(channels: Int) -> Bool

    /// For each block of `block` of the `rows` channels-last rows (the last maybe shorter), the sums
    /// of each value's deviation from the block's first row and of its square, to `out`
    /// (`[blocks][2][channels]`).
    static func batchNormBlockSums(x: UnsafePointer<Self>, rows: Int, channels: Int, block: Int, out: UnsafeMutablePointer<Self>)

    /// `y = max(scale * ((x - center) * invStd) + shift, floor)` per channel, with `residual` added
    /// before the maximum; NaN stays NaN.
    static func batchNormNormalize(x: UnsafePointer<Self>, residual: UnsafePointer<Self>?, rows: Int, channels: Int,
                                   center: UnsafePointer<Self>, invStd: UnsafePointer<Self>, scale: UnsafePointer<Self>,
                                   shift: UnsafePointer<Self>, floor: Self, y: UnsafeMutablePointer<Self>)

    /// `batchNormNormalize` without a residual, over images of `height x width` rows (both even),
    /// pooled by 2x2 windows as `MaxPool2d` pools: each window's maximum to `y` and its position in
    /// the window (0 to 3 in scan order) to `positions`.
    static func batchNormNormalizePooled(x: UnsafePointer<Self>, height: Int, width: Int, rows: Int, channels: Int,
                                         center: UnsafePointer<Self>, invStd: UnsafePointer<Self>, scale: UnsafePointer<Self>,
                                         shift: UnsafePointer<Self>, floor: Self, y: UnsafeMutablePointer<Self>,
                                         positions: UnsafeMutablePointer<Self>)

    /// Training batch-norm's backward sums over `rows` channels-last rows: with `xhat = (x - center)
    /// * invStd` and `g` the output gradient where it passes the ReLU (with `rectifies`, where
    /// `scale * xhat + shift > 0`), adds `sum(g)` and then `sum(g * xhat)` per channel to `sums`
    /// (`2 * channels` values), summed in `Self` over blocks of `block` rows. The output gradient is
    /// `dy` row by row or, with `pooled`, the gradient of a 2x2 max-pool taken in batch-norm's pass
    /// over images of `height x width`, with the positions it recorded: a row's is its window's
    /// where the pool took the row, else 0.
    static func batchNormGradientSums(x: UnsafePointer<Self>, dy: UnsafePointer<Self>, pooled: (positions: UnsafePointer<Self>, height: Int, width: Int)?,
                                      rows: Int, channels: Int,
                                      center: UnsafePointer<Self>, invStd: UnsafePointer<Self>, scale: UnsafePointer<Self>,
                                      shift: UnsafePointer<Self>, rectifies: Bool, block: Int, sums: UnsafeMutablePointer<Double>)

    /// Then `dx = factor * (count * g - dyTotal - xhat * dyXhatTotal)` per channel.
    static func batchNormInputGradient(x: UnsafePointer<Self>, dy: UnsafePointer<Self>, pooled: (positions: UnsafePointer<Self>, height: Int, width: Int)?,
                                       rows: Int, channels: Int,
                                       center: UnsafePointer<Self>, invStd: UnsafePointer<Self>, scale: UnsafePointer<Self>,
                                       shift: UnsafePointer<Self>, rectifies: Bool, factor: UnsafePointer<Self>,
                                       dyTotal: UnsafePointer<Self>, dyXhatTotal: UnsafePointer<Self>, count: Self,
                                       dx: UnsafeMutablePointer<Self>)
}


extension Float: Scalar {
    @inlinable
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Float, a: UnsafePointer<Float>, lda: Int,
        b: UnsafePointer<Float>, ldb: Int,
        beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int
    ) {
        cblas_sgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    @inlinable
    public static func axpy(count: Int, alpha: Float, x: UnsafePointer<Float>, y: UnsafeMutablePointer<Float>) {
        cblas_saxpy(Int32(count), alpha, x, 1, y, 1)
    }

    @inlinable
    public static func scale(count: Int, alpha: Float, x: UnsafeMutablePointer<Float>) {
        cblas_sscal(Int32(count), alpha, x, 1)
    }

    @inlinable
    public static func dot(count: Int, x: UnsafePointer<Float>, y: UnsafePointer<Float>) -> Float {
        cblas_sdot(Int32(count), x, 1, y, 1)
    }

    /// AVX-512 is looked up once.
    private static let hasAVX512 = landscape_has_avx512() != 0

    /// The rule of the convolution and product kernels: whole vectors of 16, on AVX-512.
    private static func takesVectors(_ count: Int) -> Bool { hasAVX512 && count > 0 && count % 16 == 0 }

    public static func convolvesDirectly(outputs: Int) -> Bool { takesVectors(outputs) }

    public static func multipliesDirectly(columns: Int) -> Bool { takesVectors(columns) }

    public static func multiply(_ a: UnsafePointer<Float>, rows: Int, rowStride: Int, depthStride: Int, depth: Int,
                                _ b: UnsafePointer<Float>, bRow: Int, columns: Int, into c: UnsafeMutablePointer<Float>, cRow: Int) {
        precondition(multipliesDirectly(columns: columns), "Float.multiply: not available for \(columns) columns")
        landscape_multiply(a, rows, rowStride, depthStride, depth, b, bRow, columns, c, cRow)
    }

    public static func transpose(_ source: UnsafePointer<Float>, rows: Int, columns: Int, sourceRow: Int,
                                 into destination: UnsafeMutablePointer<Float>, destinationRow: Int) {
        guard hasAVX512 else {
            return transposeByValues(source, rows: rows, columns: columns, sourceRow: sourceRow, into: destination, destinationRow: destinationRow)
        }
        landscape_transpose(source, rows, columns, sourceRow, destination, destinationRow)
    }

    public static func convolve(padded: UnsafePointer<Float>, paddedWidth: Int, inputs: Int, kernelHeight: Int, kernelWidth: Int,
                                stride: Int, weight: UnsafePointer<Float>, outputs: Int, rows: Range<Int>, outputWidth: Int,
                                output: UnsafeMutablePointer<Float>, outputPixel: Int, outputRow: Int, accumulating: Bool) {
        precondition(convolvesDirectly(outputs: outputs), "Float.convolve: not available for \(outputs) outputs")
        landscape_convolve(padded, paddedWidth, inputs, kernelHeight, kernelWidth, stride, weight, outputs, rows.lowerBound, rows.upperBound,
                           outputWidth, output, outputPixel, outputRow, accumulating ? 1 : 0)
    }

    public static func convolutionWeightGradient(image: UnsafePointer<Float>, height: Int, width: Int, inputs: Int, kernel: Int,
                                                 stride: Int, padding: Int, gradient: UnsafePointer<Float>, outputs: Int,
                                                 outputHeight: Int, outputWidth: Int, weightGradient: UnsafeMutablePointer<Float>) {
        precondition(convolvesDirectly(outputs: outputs), "Float.convolutionWeightGradient: not available for \(outputs) outputs")
        landscape_convolution_weight_gradient(image, height, width, inputs, kernel, stride, padding, gradient, outputs, outputHeight,
                                              outputWidth, weightGradient)
    }

    public static func weighsByTaps(inputs: Int, kernel: Int) -> Bool { landscape_convolution_weighs_by_taps(inputs, kernel) != 0 }

    public static func convolutionWeightGradientByTaps(padded: UnsafePointer<Float>, paddedWidth: Int, inputs: Int, kernel: Int,
                                                       stride: Int, gradient: UnsafePointer<Float>, outputs: Int, outputHeight: Int,
                                                       outputWidth: Int, weightGradient: UnsafeMutablePointer<Float>) {
        precondition(convolvesDirectly(outputs: outputs) && weighsByTaps(inputs: inputs, kernel: kernel),
                     "Float.convolutionWeightGradientByTaps: not available for \(inputs) inputs, \(outputs) outputs and kernel \(kernel)")
        landscape_convolution_weight_gradient_by_taps(padded, paddedWidth, inputs, kernel, stride, gradient, outputs, outputHeight,
                                                      outputWidth, weightGradient)
    }

    public static func normalizesDirectly(channels: Int) -> Bool { hasAVX512 && channels > 0 && channels % 16 == 0 && channels <= 64 }

    public static func batchNormNormalizePooled(x: UnsafePointer<Float>, height: Int, width: Int, rows: Int, channels: Int,
                                                center: UnsafePointer<Float>, invStd: UnsafePointer<Float>, scale: UnsafePointer<Float>,
                                                shift: UnsafePointer<Float>, floor: Float, y: UnsafeMutablePointer<Float>,
                                                positions: UnsafeMutablePointer<Float>) {
        precondition(normalizesDirectly(channels: channels) && height % 2 == 0 && width % 2 == 0,
                     "Float.batchNormNormalizePooled: not available for \(channels) channels and images of \(height) x \(width)")
        landscape_batch_norm_normalize_pooled(x, height, width, rows, channels, center, invStd, scale, shift, floor, y, positions)
    }

    public static func batchNormBlockSums(x: UnsafePointer<Float>, rows: Int, channels: Int, block: Int, out: UnsafeMutablePointer<Float>) {
        precondition(normalizesDirectly(channels: channels), "Float.batchNormBlockSums: not available for \(channels) channels")
        landscape_batch_norm_block_sums(x, rows, channels, block, out)
    }

    public static func batchNormNormalize(x: UnsafePointer<Float>, residual: UnsafePointer<Float>?, rows: Int, channels: Int,
                                          center: UnsafePointer<Float>, invStd: UnsafePointer<Float>, scale: UnsafePointer<Float>,
                                          shift: UnsafePointer<Float>, floor: Float, y: UnsafeMutablePointer<Float>) {
        precondition(normalizesDirectly(channels: channels), "Float.batchNormNormalize: not available for \(channels) channels")
        landscape_batch_norm_normalize(x, residual, rows, channels, center, invStd, scale, shift, floor, y)
    }

    public static func batchNormGradientSums(x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                             pooled: (positions: UnsafePointer<Float>, height: Int, width: Int)?, rows: Int, channels: Int,
                                             center: UnsafePointer<Float>, invStd: UnsafePointer<Float>, scale: UnsafePointer<Float>,
                                             shift: UnsafePointer<Float>, rectifies: Bool, block: Int, sums: UnsafeMutablePointer<Double>) {
        precondition(normalizesDirectly(channels: channels), "Float.batchNormGradientSums: not available for \(channels) channels")
        landscape_batch_norm_gradient_sums(x, dy, pooled?.positions, pooled?.height ?? 0, pooled?.width ?? 0, rows, channels, center, invStd,
                                           scale, shift, rectifies ? 1 : 0, block, sums)
    }

    public static func batchNormInputGradient(x: UnsafePointer<Float>, dy: UnsafePointer<Float>,
                                              pooled: (positions: UnsafePointer<Float>, height: Int, width: Int)?, rows: Int, channels: Int,
                                              center: UnsafePointer<Float>, invStd: UnsafePointer<Float>, scale: UnsafePointer<Float>,
                                              shift: UnsafePointer<Float>, rectifies: Bool, factor: UnsafePointer<Float>,
                                              dyTotal: UnsafePointer<Float>, dyXhatTotal: UnsafePointer<Float>, count: Float,
                                              dx: UnsafeMutablePointer<Float>) {
        precondition(normalizesDirectly(channels: channels), "Float.batchNormInputGradient: not available for \(channels) channels")
        landscape_batch_norm_input_gradient(x, dy, pooled?.positions, pooled?.height ?? 0, pooled?.width ?? 0, rows, channels, center,
                                            invStd, scale, shift, rectifies ? 1 : 0, factor, dyTotal, dyXhatTotal, count, dx)
    }
}

extension Double: Scalar {
    @inlinable
    public static func gemm(
        transposeA: Bool, transposeB: Bool, m: Int, n: Int, k: Int,
        alpha: Double, a: UnsafePointer<Double>, lda: Int,
        b: UnsafePointer<Double>, ldb: Int,
        beta: Double, c: UnsafeMutablePointer<Double>, ldc: Int
    ) {
        cblas_dgemm(
            CblasRowMajor, transposeA ? CblasTrans : CblasNoTrans, transposeB ? CblasTrans : CblasNoTrans,
            Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
    }

    @inlinable
    public static func axpy(count: Int, alpha: Double, x: UnsafePointer<Double>, y: UnsafeMutablePointer<Double>) {
        cblas_daxpy(Int32(count), alpha, x, 1, y, 1)
    }

    @inlinable
    public static func scale(count: Int, alpha: Double, x: UnsafeMutablePointer<Double>) {
        cblas_dscal(Int32(count), alpha, x, 1)
    }

    @inlinable
    public static func dot(count: Int, x: UnsafePointer<Double>, y: UnsafePointer<Double>) -> Double {
        cblas_ddot(Int32(count), x, 1, y, 1)
    }
}

/// Without kernels of its own, a type says so (`convolvesDirectly`, `weighsByTaps`,
/// `normalizesDirectly` false) and its layers loop and multiply; the kernels are then never called.
/// Double has none: the gradient checks want the plain sums.
extension Scalar {
    public static func multipliesDirectly(columns: Int) -> Bool { false }

    public static func multiply(_ a: UnsafePointer<Self>, rows: Int, rowStride: Int, depthStride: Int, depth: Int,
                                _ b: UnsafePointer<Self>, bRow: Int, columns: Int, into c: UnsafeMutablePointer<Self>, cRow: Int) {
        preconditionFailure("\(Self.self).multiply: no kernel for \(Self.self)")
    }

    public static func transpose(_ source: UnsafePointer<Self>, rows: Int, columns: Int, sourceRow: Int,
                                 into destination: UnsafeMutablePointer<Self>, destinationRow: Int) {
        transposeByValues(source, rows: rows, columns: columns, sourceRow: sourceRow, into: destination, destinationRow: destinationRow)
    }

    /// `transpose` value by value.
    static func transposeByValues(_ source: UnsafePointer<Self>, rows: Int, columns: Int, sourceRow: Int,
                                  into destination: UnsafeMutablePointer<Self>, destinationRow: Int) {
        for i in 0..<rows {
            for j in 0..<columns { destination[j * destinationRow + i] = source[i * sourceRow + j] }
        }
    }

    public static func convolvesDirectly(outputs: Int) -> Bool { false }

    public static func convolve(padded: UnsafePointer<Self>, paddedWidth: Int, inputs: Int, kernelHeight: Int, kernelWidth: Int,
                                stride: Int, weight: UnsafePointer<Self>, outputs: Int, rows: Range<Int>, outputWidth: Int,
                                output: UnsafeMutablePointer<Self>, outputPixel: Int, outputRow: Int, accumulating: Bool) {
        preconditionFailure("\(Self.self).convolve: no kernel for \(Self.self)")
    }

    public static func convolutionWeightGradient(image: UnsafePointer<Self>, height: Int, width: Int, inputs: Int, kernel: Int,
                                                 stride: Int, padding: Int, gradient: UnsafePointer<Self>, outputs: Int,
                                                 outputHeight: Int, outputWidth: Int, weightGradient: UnsafeMutablePointer<Self>) {
        preconditionFailure("\(Self.self).convolutionWeightGradient: no kernel for \(Self.self)")
    }

    public static func weighsByTaps(inputs: Int, kernel: Int) -> Bool { false }

    public static func convolutionWeightGradientByTaps(padded: UnsafePointer<Self>, paddedWidth: Int, inputs: Int, kernel: Int,
                                                       stride: Int, gradient: UnsafePointer<Self>, outputs: Int, outputHeight: Int,
                                                       outputWidth: Int, weightGradient: UnsafeMutablePointer<Self>) {
        preconditionFailure("\(Self.self).convolutionWeightGradientByTaps: no kernel for \(Self.self)")
    }

    public static func normalizesDirectly(channels: Int) -> Bool { false }

    public static func batchNormNormalizePooled(x: UnsafePointer<Self>, height: Int, width: Int, rows: Int, channels: Int,
                                                center: UnsafePointer<Self>, invStd: UnsafePointer<Self>, scale: UnsafePointer<Self>,
                                                shift: UnsafePointer<Self>, floor: Self, y: UnsafeMutablePointer<Self>,
                                                positions: UnsafeMutablePointer<Self>) {
        preconditionFailure("\(Self.self).batchNormNormalizePooled: no kernel for \(Self.self)")
    }

    public static func batchNormBlockSums(x: UnsafePointer<Self>, rows: Int, channels: Int, block: Int, out: UnsafeMutablePointer<Self>) {
        preconditionFailure("\(Self.self).batchNormBlockSums: no kernel for \(Self.self)")
    }

    public static func batchNormNormalize(x: UnsafePointer<Self>, residual: UnsafePointer<Self>?, rows: Int, channels: Int,
                                          center: UnsafePointer<Self>, invStd: UnsafePointer<Self>, scale: UnsafePointer<Self>,
                                          shift: UnsafePointer<Self>, floor: Self, y: UnsafeMutablePointer<Self>) {
        preconditionFailure("\(Self.self).batchNormNormalize: no kernel for \(Self.self)")
    }

    public static func batchNormGradientSums(x: UnsafePointer<Self>, dy: UnsafePointer<Self>,
                                             pooled: (positions: UnsafePointer<Self>, height: Int, width: Int)?, rows: Int, channels: Int,
                                             center: UnsafePointer<Self>, invStd: UnsafePointer<Self>, scale: UnsafePointer<Self>,
                                             shift: UnsafePointer<Self>, rectifies: Bool, block: Int, sums: UnsafeMutablePointer<Double>) {
        preconditionFailure("\(Self.self).batchNormGradientSums: no kernel for \(Self.self)")
    }

    public static func batchNormInputGradient(x: UnsafePointer<Self>, dy: UnsafePointer<Self>,
                                              pooled: (positions: UnsafePointer<Self>, height: Int, width: Int)?, rows: Int, channels: Int,
                                              center: UnsafePointer<Self>, invStd: UnsafePointer<Self>, scale: UnsafePointer<Self>,
                                              shift: UnsafePointer<Self>, rectifies: Bool, factor: UnsafePointer<Self>,
                                              dyTotal: UnsafePointer<Self>, dyXhatTotal: UnsafePointer<Self>, count: Self,
                                              dx: UnsafeMutablePointer<Self>) {
        preconditionFailure("\(Self.self).batchNormInputGradient: no kernel for \(Self.self)")
    }
}
