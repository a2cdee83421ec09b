import LandscapeCore

/// Max pooling over `size x size` windows with stride `size`, no padding, floor for the output size
/// (PyTorch's `F.max_pool2d(x, size)`). The first maximum in scan order wins, as in PyTorch's CPU
/// kernel, and NaN propagates; backward sends each output gradient to that input.
///
/// Channels-last, a window position is a contiguous run of channels, so each output pixel is an
/// element-wise maximum of `size^2` runs: a branch-free loop the compiler vectorizes. Forward keeps
/// no indices; backward, which evaluation never runs, finds each maximum again in the input (still
/// held by the layer before) by scanning its window in the same order, writing every input once.
public final class MaxPool2d<T: Scalar> {
    public let size: Int
    private let output = Buffer<T>(count: 0)
    private let inputGradient = Buffer<T>(count: 0)
    private var input: Tensor<T>?

    init(size: Int) {
        precondition(size > 0, "MaxPool2d: size \(size)")
        self.size = size
    }

    public func outputShape(_ x: Shape) -> Shape {
        precondition(x.height >= size && x.width >= size, "MaxPool2d: input \(x) smaller than window \(size)")
        return Shape(n: x.n, height: x.height / size, width: x.width / size, channels: x.channels)
    }

    /// Calls `body(out, corner)` for every output pixel: `out` its offset in the output, `corner`
    /// the offset of its window's first pixel in the input.
    @inline(__always)
    private func forEachWindow(_ x: Shape, _ y: Shape, _ body: (Int, Int) -> Void) {
        var out = 0
        for n in 0..<y.n {
            for oy in 0..<y.height {
                for ox in 0..<y.width {
                    body(out, ((n * x.height + oy * size) * x.width + ox * size) * x.channels)
                    out += x.channels
                }
            }
        }
    }

    /// The offsets of a window's runs from its corner, in scan order, for inputs `offsetsFor`
    /// (width, channels) wide; recomputed only when that changes, so a step allocates nothing.
    private var offsets: [Int] = []
    private var offsetsFor = (width: 0, channels: 0)

    private func updateOffsets(_ x: Shape) {
        guard offsetsFor != (x.width, x.channels) else { return }
        offsets = (0..<size).flatMap { ky in (0..<size).map { kx in (ky * x.width + kx) * x.channels } }
        offsetsFor = (x.width, x.channels)
    }

    /// Whether the convolution before pooled its output chunk by chunk in this inference pass.
    private var pooledChunks = false

    /// `inference`: an evaluation pass that no backward follows, in which the convolution before
    /// may have pooled already (`Conv2d.poolChunks`).
    func forward(_ x: Tensor<T>, inference: Bool = false) -> Tensor<T> {
        let y = outputShape(x.shape)
        if inference && pooledChunks {
            pooledChunks = false
            input = nil  // no backward through a pass the convolution did
            return Tensor(output.pointer, y)
        }
        output.reserve(y.count)
        input = x
        pool(x, into: output.pointer)
        return Tensor(output.pointer, y)
    }

    /// Readies the output for `poolChunk` calls covering a convolution output of shape `x`.
    func startPoolingChunks(of x: Shape) {
        output.reserve(outputShape(x).count)
        pooledChunks = true
    }

    /// Pools `rows` (whole rows of windows, `size` image rows each) of a convolution output of shape
    /// `x` whose windows tile its images, from `chunk`, where those rows start; returns where the
    /// pooled rows went and how many there are. Consecutive images' rows follow each other, so the
    /// chunk pools as one tall image.
    func poolChunk(_ chunk: UnsafeMutablePointer<T>, rows: Range<Int>, of x: Shape) -> (start: UnsafeMutablePointer<T>, rows: Int) {
        let part = Shape(n: 1, height: rows.count / x.width, width: x.width, channels: x.channels)
        let out = output.pointer + rows.lowerBound / (size * size) * x.channels
        pool(Tensor(chunk, part), into: out)
        return (out, rows.count / (size * size))
    }

    /// Writes the maxima of `x`'s windows to `best` (`outputShape(x.shape).count` values).
    private func pool(_ x: Tensor<T>, into best: UnsafeMutablePointer<T>) {
        let y = outputShape(x.shape)
        let channels = x.shape.channels
        updateOffsets(x.shape)
        let source = x.pointer
        if size == 2 {
            // The common window in one loop, the maximum kept in a register.
            let (right, below, diagonal) = (offsets[1], offsets[2], offsets[3])
            forEachWindow(x.shape, y) { out, corner in
                let (maximum, first) = (best + out, source + corner)
                let (second, third, fourth) = (first + right, first + below, first + diagonal)
                for c in 0..<channels {
                    maximum[c] = Self.larger(Self.larger(Self.larger(first[c], second[c]), third[c]), fourth[c])
                }
            }
            return
        }
        let runs = offsets.dropFirst()
        forEachWindow(x.shape, y) { out, corner in
            let (maximum, first) = (best + out, source + corner)
            for c in 0..<channels { maximum[c] = first[c] }  // a loop: a memmove call costs more
            for run in runs {
                let values = source + corner + run
                for c in 0..<channels { maximum[c] = Self.larger(maximum[c], values[c]) }
            }
        }
    }

    /// The maximum so far after `value`, the next in scan order: larger wins, NaN wins and then
    /// stays (a NaN maximum is never replaced). Branch-free so that loops over channels vectorize;
    /// `x != x` tests for NaN (`isNaN` reads the bits, which keeps the loop from vectorizing).
    @inline(__always)
    private static func larger(_ current: T, _ value: T) -> T {
        let wins = (value > current ? 1 : 0) | ((value != value ? 1 : 0) & (current == current ? 1 : 0))
        return wins != 0 ? value : current
    }

    /// Whether this layer's input is a ReLU's output and backward applies the ReLU's backward too:
    /// a window whose maximum is not positive sends no gradient, since the input there is not
    /// positive (set by the network beside `BatchNorm2d.receivesRectifiedGradient`).
    var rectifiesGradient = false

    /// Per channel, whether the current window's maximum has been found yet (1 or 0).
    private let found = Buffer<T>(count: 0)

    func backward(_ dy: Tensor<T>) -> Tensor<T> {
        guard let x = input else { preconditionFailure("MaxPool2d.backward called before forward") }
        let y = outputShape(x.shape)
        precondition(dy.shape == y, "MaxPool2d.backward: output gradient \(dy.shape), expected \(y)")
        inputGradient.reserve(x.shape.count)
        let dx = inputGradient.pointer
        // Windows tile the input; only rows and columns past the last whole window are left over.
        if y.height * size != x.shape.height || y.width * size != x.shape.width {
            dx.update(repeating: 0, count: x.shape.count)
        }
        let channels = x.shape.channels
        found.reserve(channels)
        let (source, best, g, taken) = (x.pointer, output.pointer, dy.pointer, found.pointer)
        let offsets = self.offsets
        let passesAll: T = rectifiesGradient ? 0 : 1
        forEachWindow(x.shape, y) { out, corner in
            for c in 0..<channels { taken[c] = 0 }
            // Every input of the window is written once: the output gradient at the first input in
            // scan order equal to the maximum (or, for a NaN maximum, the first NaN), zero elsewhere.
            let (maxima, gradients) = (best + out, g + out)
            for run in offsets {
                let (values, target) = (source + corner + run, dx + corner + run)
                for c in 0..<channels {
                    let (value, maximum, gradient, seen) = (values[c], maxima[c], gradients[c], taken[c])
                    // 1 or 0 by arithmetic rather than && and ||, which branch; then the loop vectorizes.
                    let isMaximum: T = (value == maximum ? 1 : 0) + (value != value ? 1 : 0) * (maximum != maximum ? 1 : 0)
                    let hit = isMaximum * (1 - seen)
                    let passes: T = (maximum > 0 ? 1 : 0) + passesAll  // 0 where a ReLU before stops it
                    target[c] = hit * passes > 0 ? gradient : 0
                    taken[c] = seen + hit
                }
            }
        }
        return Tensor(dx, x.shape)
    }
}
