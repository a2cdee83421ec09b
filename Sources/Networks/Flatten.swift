import LandscapeCore

/// Images to vectors in PyTorch's order: a channels-last sample `[h, w, c]` becomes the vector
/// `(c, h, w)` that `x.flatten(1)` gives for the same NCHW image, so a following `Linear` keeps
/// PyTorch's weight layout. With one channel or a 1x1 image the order is the same and nothing moves.
public final class Flatten<T: Scalar> {
    private let output = Buffer<T>(count: 0)
    private let inputGradient = Buffer<T>(count: 0)
    private var inputShape: Shape?

    init() {}

    private static func isIdentity(_ x: Shape) -> Bool { x.channels == 1 || x.height * x.width == 1 }

    func forward(_ x: Tensor<T>) -> Tensor<T> {
        inputShape = x.shape
        let y = Shape(n: x.shape.n, features: x.shape.sampleSize)
        if Self.isIdentity(x.shape) { return Tensor(x.pointer, y) }
        output.reserve(x.shape.count)
        permute(x.pointer, to: output.pointer, x.shape, channelsLastToFirst: true)
        return Tensor(output.pointer, y)
    }

    func backward(_ dy: Tensor<T>) -> Tensor<T> {
        guard let x = inputShape else { preconditionFailure("Flatten.backward called before forward") }
        precondition(dy.shape == Shape(n: x.n, features: x.sampleSize), "Flatten.backward: output gradient \(dy.shape), input was \(x)")
        if Self.isIdentity(x) { return Tensor(dy.pointer, x) }
        inputGradient.reserve(x.count)
        permute(dy.pointer, to: inputGradient.pointer, x, channelsLastToFirst: false)
        return Tensor(inputGradient.pointer, x)
    }

    /// Moves each sample between `[h*w, c]` and `[c, h*w]` order.
    private func permute(_ source: UnsafePointer<T>, to destination: UnsafeMutablePointer<T>, _ x: Shape, channelsLastToFirst: Bool) {
        let (pixels, channels) = (x.height * x.width, x.channels)
        // The channels-first side is walked in order, a run of `pixels` values per channel, with
        // pointers stepped rather than indices multiplied.
        for n in 0..<x.n {
            let (from, to) = (source + n * x.sampleSize, destination + n * x.sampleSize)
            for c in 0..<channels {
                let (channelsFirst, channelsLast) = (c * pixels, c)
                if channelsLastToFirst {
                    var (input, output) = (UnsafePointer(from + channelsLast), to + channelsFirst)
                    for _ in 0..<pixels {
                        output.pointee = input.pointee
                        (input, output) = (input + channels, output + 1)
                    }
                } else {
                    var (input, output) = (UnsafePointer(from + channelsFirst), to + channelsLast)
                    for _ in 0..<pixels {
                        output.pointee = input.pointee
                        (input, output) = (input + 1, output + channels)
                    }
                }
            }
        }
    }
}
