import LandscapeCore

/// Max pooling over `size x size` windows with stride `size`, no padding, floor for the output size
/// (PyTorch's `F.max_pool2d(x, size)`). The first maximum in scan order wins, as in PyTorch's CPU
/// kernel, and NaN propagates; backward sends each output gradient to that input.
///
/// Channels-last, a window position is a contiguous run of channels, so each output pixel is an
/// element-wise maximum of `size^2` runs: a branch-free loop the compiler vectorizes. A forward pass
/// that a backward may follow also records where each maximum is in its window, so that backward
/// writes every input once from the positions and the output gradient, without reading the input,
/// `size^2` times as large as the output, again.
public final class MaxPool2d<T: Scalar> {
    public let size: Int
    private let output = Buffer<T>(count: 0)
    /// Per output value, the position in its window (0 to `size^2 - 1`, in scan order) of the input
    /// that is the maximum, as a `T`, so that the loops recording and reading it vectorize.
    private let positions = Buffer<T>(count: 0)
    private let inputGradient = Buffer<T>(count: 0)
    /// The shape of the input of the last forward pass that recorded positions.
    private var inputShape: Shape?

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
    /// Whether the batch-norm before pooled its output in its own pass (`poolActivation`), whose
    /// result the next forward passes on; and whether that layer then reads the output gradient and
    /// the positions itself, so that backward hands the gradient back as it is.
    private var pooledActivation = false
    private var handsGradientBack = false

    /// `inference`: an evaluation pass that no backward follows, in which the convolution before
    /// may have pooled already (`Conv2d.poolChunks`).
    func forward(_ x: Tensor<T>, inference: Bool = false) -> Tensor<T> {
        if pooledActivation {
            pooledActivation = false
            return x
        }
        handsGradientBack = false
        let y = outputShape(x.shape)
        if inference && pooledChunks {
            pooledChunks = false
            inputShape = nil  // no backward through a pass the convolution did
            return Tensor(output.pointer, y)
        }
        output.reserve(y.count)
        if inference {
            inputShape = nil
            pool(x, into: output.pointer, positions: nil)
        } else {
            positions.reserve(y.count)
            inputShape = x.shape
            pool(x, into: output.pointer, positions: positions.pointer)
        }
        return Tensor(output.pointer, y)
    }

    /// Whether `poolActivation` takes inputs of shape `x`: 2x2 windows that tile its images.
    func poolsActivation(of x: Shape) -> Bool {
        size == 2 && x.height % 2 == 0 && x.width % 2 == 0
    }

    /// The forward of a pass that a backward may follow, over `activation(value, channel)` of each
    /// of `x`'s values: the layer before (batch-norm) computes its output as the pool reads it
    /// instead of writing it out for the pool to read back. Records positions as `forward` does, and
    /// the next `forward` passes the result on. Needs `poolsActivation(of: x.shape)`.
    @inline(__always)
    func poolActivation(of x: Tensor<T>, _ activation: (T, Int) -> T) -> Tensor<T> {
        let (best, positions) = startPoolingActivation(of: x.shape, handsGradientBack: false)
        poolPairs(x, into: best, positions: positions, activation)
        return Tensor(best, outputShape(x.shape))
    }

    /// `poolActivation` where the layer before writes the maxima and their positions itself,
    /// `write(maxima, positions)`; with `handsGradientBack`, it also reads the output gradient with
    /// the positions (`recordedPositions`) in its backward, and this pool's backward returns the
    /// gradient as it is.
    func poolActivation(of x: Tensor<T>, handsGradientBack: Bool, writing write: (UnsafeMutablePointer<T>, UnsafeMutablePointer<T>) -> Void) -> Tensor<T> {
        let (best, positions) = startPoolingActivation(of: x.shape, handsGradientBack: handsGradientBack)
        write(best, positions)
        return Tensor(best, outputShape(x.shape))
    }

    /// Sizes the output and the positions for a `poolActivation` of an input of shape `x`, and sets
    /// what the next forward and backward do; returns where the maxima and the positions go.
    private func startPoolingActivation(of x: Shape, handsGradientBack: Bool) -> (UnsafeMutablePointer<T>, UnsafeMutablePointer<T>) {
        precondition(poolsActivation(of: x), "MaxPool2d.poolActivation: \(size)x\(size) windows on \(x)")
        let y = outputShape(x)
        output.reserve(y.count)
        positions.reserve(y.count)
        inputShape = x
        updateOffsets(x)  // for backward, whoever writes the positions
        (pooledActivation, self.handsGradientBack) = (true, handsGradientBack)
        return (output.pointer, positions.pointer)
    }

    /// Per output value of the last forward that recorded them, its maximum's position in its window.
    var recordedPositions: UnsafePointer<T> { UnsafePointer(positions.pointer) }

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
        pool(Tensor(chunk, part), into: out, positions: nil)
        return (out, rows.count / (size * size))
    }

    /// Writes the maxima of `x`'s windows to `best` (`outputShape(x.shape).count` values) and, if
    /// given, their positions in their windows to `positions`.
    private func pool(_ x: Tensor<T>, into best: UnsafeMutablePointer<T>, positions: UnsafeMutablePointer<T>?) {
        if size == 2 {
            poolPairs(x, into: best, positions: positions) { value, _ in value }
            return
        }
        let y = outputShape(x.shape)
        let channels = x.shape.channels
        updateOffsets(x.shape)
        let source = x.pointer
        forEachWindow(x.shape, y) { out, corner in
            let (maximum, first) = (best + out, source + corner)
            for c in 0..<channels { maximum[c] = first[c] }  // a loop: a memmove call costs more
            let position = positions.map { $0 + out }
            position?.update(repeating: 0, count: channels)
            for index in 1..<offsets.count {
                let values = source + corner + offsets[index]
                guard let position else {
                    for c in 0..<channels { maximum[c] = Self.larger(maximum[c], values[c]) }
                    continue
                }
                for c in 0..<channels {
                    (maximum[c], position[c]) = Self.larger((maximum[c], position[c]), (values[c], T(index)))
                }
            }
        }
    }

    /// `pool` for 2x2 windows, in one loop with the maximum in a register, over `activation(value,
    /// channel)` of each input value. The window loops are written out rather than taken from
    /// `forEachWindow`: a closure within that closure is not inlined, and the activation would
    /// then be a call per value.
    @inline(__always)
    private func poolPairs(_ x: Tensor<T>, into best: UnsafeMutablePointer<T>, positions: UnsafeMutablePointer<T>?,
                           _ activation: (T, Int) -> T) {
        let y = outputShape(x.shape)
        let channels = x.shape.channels
        updateOffsets(x.shape)
        let (source, right, below, diagonal) = (x.pointer, offsets[1], offsets[2], offsets[3])
        for n in 0..<y.n {
            for oy in 0..<y.height {
                for ox in 0..<y.width {
                    let out = ((n * y.height + oy) * y.width + ox) * channels
                    let corner = ((n * x.shape.height + oy * 2) * x.shape.width + ox * 2) * channels
                    let (maximum, first) = (best + out, source + corner)
                    let (second, third, fourth) = (first + right, first + below, first + diagonal)
                    guard let position = positions.map({ $0 + out }) else {
                        for c in 0..<channels {
                            let (v0, v1, v2, v3) = (activation(first[c], c), activation(second[c], c), activation(third[c], c), activation(fourth[c], c))
                            maximum[c] = Self.larger(Self.larger(Self.larger(v0, v1), v2), v3)
                        }
                        continue
                    }
                    for c in 0..<channels {
                        let (v0, v1, v2, v3) = (activation(first[c], c), activation(second[c], c), activation(third[c], c), activation(fourth[c], c))
                        (maximum[c], position[c]) = Self.larger(Self.larger(Self.larger((v0, 0), (v1, 1)), (v2, 2)), (v3, 3))
                    }
                }
            }
        }
    }

    /// Whether `value`, the next in scan order, replaces the maximum so far: larger wins, NaN wins
    /// and then stays (a NaN maximum is never replaced), so the first maximum in scan order stays.
    /// Branch-free so that loops over channels vectorize; `x != x` tests for NaN (`isNaN` reads the
    /// bits, which keeps the loop from vectorizing).
    @inline(__always)
    private static func replaces(_ current: T, _ value: T) -> Bool {
        ((value > current ? 1 : 0) | ((value != value ? 1 : 0) & (current == current ? 1 : 0))) != 0
    }

    /// The maximum so far after `value`.
    @inline(__always)
    private static func larger(_ current: T, _ value: T) -> T { replaces(current, value) ? value : current }

    /// The maximum so far and its position after `value` at its position.
    @inline(__always)
    private static func larger(_ current: (T, T), _ value: (T, T)) -> (T, T) {
        replaces(current.0, value.0) ? value : current
    }

    func backward(_ dy: Tensor<T>) -> Tensor<T> {
        if handsGradientBack { return dy }
        guard let x = inputShape else { preconditionFailure("MaxPool2d.backward called before a forward pass that records positions") }
        let y = outputShape(x)
        precondition(dy.shape == y, "MaxPool2d.backward: output gradient \(dy.shape), expected \(y)")
        inputGradient.reserve(x.count)
        let dx = inputGradient.pointer
        // Windows tile the input; only rows and columns past the last whole window are left over.
        if y.height * size != x.height || y.width * size != x.width {
            dx.update(repeating: 0, count: x.count)
        }
        let channels = x.channels
        let (g, position) = (dy.pointer, positions.pointer)
        let offsets = self.offsets
        forEachWindow(x, y) { out, corner in
            // Every input of the window is written once: the output gradient at the maximum's
            // position, zero elsewhere.
            let (gradients, positions) = (g + out, position + out)
            for index in 0..<offsets.count {
                let (target, here) = (dx + corner + offsets[index], T(index))
                for c in 0..<channels {
                    let gradient = gradients[c]  // loaded unconditionally, so the select vectorizes
                    target[c] = positions[c] == here ? gradient : 0
                }
            }
        }
        return Tensor(dx, x)
    }
}
