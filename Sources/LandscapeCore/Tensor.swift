/// The shape of a batch of activations: `n` samples of `height x width x channels`, stored
/// channels-last (NHWC). A batch of feature vectors has `height == width == 1`.
///
/// Channels-last lets a convolution be a single GEMM per layer whose output is already the next
/// layer's input (see `Conv2d`), and puts a channel's values at a fixed stride for batch-norm.
/// Parameters keep PyTorch's layouts; only activations use this shape.
public struct Shape: Equatable, Hashable, Sendable, CustomStringConvertible {
    public var n: Int
    public var height: Int
    public var width: Int
    public var channels: Int

    public init(n: Int, height: Int, width: Int, channels: Int) {
        self.n = n
        self.height = height
        self.width = width
        self.channels = channels
    }

    /// A batch of `n` vectors of `features` elements.
    public init(n: Int, features: Int) {
        self.init(n: n, height: 1, width: 1, channels: features)
    }

    /// Elements per sample.
    public var sampleSize: Int { height * width * channels }
    /// Elements in the batch.
    public var count: Int { n * sampleSize }
    /// Pixels in the batch (`n * height * width`): the rows of the channels-last matrix.
    public var pixels: Int { n * height * width }

    /// The same per-sample shape for another batch size.
    public func with(n: Int) -> Shape { Shape(n: n, height: height, width: width, channels: channels) }

    public var description: String { "[\(n), \(height), \(width), \(channels)]" }
}

/// A batch of activations: a pointer into storage owned elsewhere (a layer's `Buffer`, a data
/// batch) and its shape. Copying a tensor copies the view, never the data.
public struct Tensor<T: Scalar> {
    public var pointer: UnsafeMutablePointer<T>
    public var shape: Shape

    public init(_ pointer: UnsafeMutablePointer<T>, _ shape: Shape) {
        self.pointer = pointer
        self.shape = shape
    }

    /// A view of the first `shape.count` elements of `buffer`.
    public init(_ buffer: Buffer<T>, _ shape: Shape) {
        precondition(shape.count <= buffer.capacity, "Tensor: shape \(shape) exceeds buffer capacity \(buffer.capacity)")
        self.init(buffer.pointer, shape)
    }

    /// The elements as a buffer pointer.
    public var elements: UnsafeMutableBufferPointer<T> { UnsafeMutableBufferPointer(start: pointer, count: shape.count) }
}
