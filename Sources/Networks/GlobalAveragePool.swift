import LandscapeCore

/// The mean of each channel over the image (PyTorch's `F.adaptive_avg_pool2d(x, 1).flatten(1)`),
/// giving a batch of vectors.
public final class GlobalAveragePool<T: Scalar> {
    private let output = Buffer<T>(count: 0)
    private let inputGradient = Buffer<T>(count: 0)
    private var inputShape: Shape?

    init() {}

    func forward(_ x: Tensor<T>) -> Tensor<T> {
        let (pixels, channels) = (x.shape.height * x.shape.width, x.shape.channels)
        output.reserve(x.shape.n * channels)
        inputShape = x.shape
        let scale = 1 / T(pixels)
        for n in 0..<x.shape.n {
            let (image, y) = (x.pointer + n * x.shape.sampleSize, output.pointer + n * channels)
            y.update(repeating: 0, count: channels)
            for p in 0..<pixels {
                let pixel = image + p * channels
                for c in 0..<channels { y[c] += pixel[c] }
            }
            for c in 0..<channels { y[c] *= scale }
        }
        return Tensor(output.pointer, Shape(n: x.shape.n, features: channels))
    }

    func backward(_ dy: Tensor<T>) -> Tensor<T> {
        guard let x = inputShape else { preconditionFailure("GlobalAveragePool.backward called before forward") }
        precondition(dy.shape == Shape(n: x.n, features: x.channels), "GlobalAveragePool.backward: output gradient \(dy.shape), input was \(x)")
        let (pixels, channels) = (x.height * x.width, x.channels)
        let scale = 1 / T(pixels)
        inputGradient.reserve(x.count)
        for n in 0..<x.n {
            let (g, image) = (dy.pointer + n * channels, inputGradient.pointer + n * x.sampleSize)
            for p in 0..<pixels {
                let pixel = image + p * channels
                for c in 0..<channels { pixel[c] = g[c] * scale }
            }
        }
        return Tensor(inputGradient.pointer, x)
    }
}
