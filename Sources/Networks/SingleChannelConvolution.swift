import LandscapeCore

/// A 3x3 convolution with stride 1 and padding 1 of single-channel images (a network's stem),
/// computed straight from the images, for inference passes.
///
/// Unrolled, such a layer is a GEMM with an inner dimension of only 9, where the copying around the
/// multiplication (the unrolled columns, then the library's packing of them) costs more than the
/// multiplication. Here each output pixel is, for a vector of 8 output channels, a product and two
/// fused multiply-adds per kernel row, the three rows' sums then added, with the vector's nine
/// weights held in registers across the image rows and the pixel's neighbours broadcast from the
/// image. Positions outside the image read zeros.
enum SingleChannelConvolution {
    /// `y[p, :] = sum over (ky, kx) of x[p + (ky - 1, kx - 1)] * weight[ky, kx, :]` for the output
    /// pixels `rows` (whole image rows) of a batch of `height x width` images; `weight` is
    /// `[3][3][outputs]`, `outputs` a multiple of 8, and `zeros` holds `width` zeros (the rows above
    /// and below an image). `y` starts at row `rows.lowerBound`.
    static func convolve<T: Scalar>(_ x: UnsafePointer<T>, height: Int, width: Int, rows: Range<Int>, weight: UnsafePointer<T>,
                                    outputs: Int, zeros: UnsafePointer<T>, into y: UnsafeMutablePointer<T>) {
        precondition(outputs % 8 == 0 && rows.lowerBound % width == 0 && rows.upperBound % width == 0,
                     "SingleChannelConvolution: \(outputs) outputs, rows \(rows) of images \(width) wide")
        let output = UnsafeMutableRawPointer(y)
        for block in Swift.stride(from: 0, to: outputs, by: 8) {
            func tap(_ position: Int) -> SIMD8<T> {
                UnsafeRawPointer(weight + position * outputs + block).loadUnaligned(as: SIMD8<T>.self)
            }
            let (w0, w1, w2, w3, w4, w5, w6, w7, w8) = (tap(0), tap(1), tap(2), tap(3), tap(4), tap(5), tap(6), tap(7), tap(8))
            for imageRow in rows.lowerBound / width..<rows.upperBound / width {
                let oy = imageRow % height
                let middle = x + imageRow * width
                let above = oy > 0 ? middle - width : zeros
                let below = oy + 1 < height ? middle + width : zeros
                let start = output + ((imageRow * width - rows.lowerBound) * outputs + block) * MemoryLayout<T>.stride
                /// The output at column `ox`, with `value(row, ix)` reading the pixel at column `ix`.
                /// Each kernel row is a chain of its own, so that three chains overlap.
                @inline(__always) func pixel(_ ox: Int, _ value: (UnsafePointer<T>, Int) -> T) {
                    @inline(__always) func kernelRow(_ row: UnsafePointer<T>, _ a: SIMD8<T>, _ b: SIMD8<T>, _ c: SIMD8<T>) -> SIMD8<T> {
                        (SIMD8(repeating: value(row, ox - 1)) * a)
                            .addingProduct(SIMD8(repeating: value(row, ox)), b)
                            .addingProduct(SIMD8(repeating: value(row, ox + 1)), c)
                    }
                    let sum = kernelRow(above, w0, w1, w2) + kernelRow(middle, w3, w4, w5) + kernelRow(below, w6, w7, w8)
                    start.storeBytes(of: sum, toByteOffset: ox * outputs * MemoryLayout<T>.stride, as: SIMD8<T>.self)
                }
                let edge = { (row: UnsafePointer<T>, ix: Int) -> T in ix >= 0 && ix < width ? row[ix] : 0 }
                pixel(0, edge)
                for ox in 1..<max(1, width - 1) { pixel(ox) { row, ix in row[ix] } }
                if width > 1 { pixel(width - 1, edge) }
            }
        }
    }
}
