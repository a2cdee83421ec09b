import LandscapeCore

/// Max pooling over `size x size` windows with stride `size`, no padding, floor for the output size
/// (PyTorch's `F.max_pool2d(x, size)`). The first maximum in scan order wins, as in PyTorch's CPU
/// kernel, and NaN propagates; backward sends each output gradient to that input.
///
/// Channels-last, a window position is a contiguous run of channels, so each output pixel is an
/// element-wise maximum of `size^2` runs.
public final class MaxPool2d<T: Scalar> {
    public let size: Int
    private let output = Buffer<T>(count: 0)
    private let inputGradient = Buffer<T>(count: 0)
    /// For each output element, the index of its maximum in the input batch.
    private let argmax = Buffer<Int32>(count: 0)
    private var inputShape: Shape?

    init(size: Int) {
        precondition(size > 0, "MaxPool2d: size \(size)")
        self.size = size
    }

    public func outputShape(_ x: Shape) -> Shape {
        precondition(x.height >= size && x.width >= size, "MaxPool2d: input \(x) smaller than window \(size)")
        return Shape(n: x.n, height: x.height / size, width: x.width / size, channels: x.channels)
    }

    func forward(_ x: Tensor<T>) -> Tensor<T> {
        let y = outputShape(x.shape)
        precondition(x.shape.count <= Int(Int32.max), "MaxPool2d: batch \(x.shape) too large for 32-bit indices")
        output.reserve(y.count)
        argmax.reserve(y.count)
        inputShape = x.shape
        let channels = x.shape.channels
        let (source, best, index) = (x.pointer, output.pointer, argmax.pointer)
        var out = 0
        for n in 0..<y.n {
            for oy in 0..<y.height {
                for ox in 0..<y.width {
                    let corner = ((n * x.shape.height + oy * size) * x.shape.width + ox * size) * channels
                    for c in 0..<channels {
                        best[out + c] = source[corner + c]
                        index[out + c] = Int32(corner + c)
                    }
                    for ky in 0..<size {
                        for kx in 0..<size where ky > 0 || kx > 0 {
                            let run = corner + (ky * x.shape.width + kx) * channels
                            for c in 0..<channels {
                                let value = source[run + c]
                                // `!(value <= best)` is true for a larger value or a NaN.
                                if !(value <= best[out + c]) && !best[out + c].isNaN {
                                    best[out + c] = value
                                    index[out + c] = Int32(run + c)
                                }
                            }
                        }
                    }
                    out += channels
                }
            }
        }
        return Tensor(output.pointer, y)
    }

    func backward(_ dy: Tensor<T>) -> Tensor<T> {
        guard let x = inputShape else { preconditionFailure("MaxPool2d.backward called before forward") }
        precondition(dy.shape == outputShape(x), "MaxPool2d.backward: output gradient \(dy.shape), expected \(outputShape(x))")
        inputGradient.reserve(x.count)
        let dx = inputGradient.pointer
        dx.update(repeating: 0, count: x.count)
        for i in 0..<dy.shape.count { dx[Int(argmax.pointer[i])] += dy.pointer[i] }
        return Tensor(dx, x)
    }
}
