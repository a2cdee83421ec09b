import LandscapeCore

/// `y = max(x, 0)`; the gradient passes where the output is positive (zero at the kink, as PyTorch).
public final class ReLU<T: Scalar> {
    private let output = Buffer<T>(count: 0)
    private let inputGradient = Buffer<T>(count: 0)
    private var shape: Shape?

    init() {}

    func forward(_ x: Tensor<T>) -> Tensor<T> {
        output.reserve(x.shape.count)
        shape = x.shape
        let (input, y) = (x.pointer, output.pointer)
        for i in 0..<x.shape.count { y[i] = max(input[i], 0) }
        return Tensor(y, x.shape)
    }

    func backward(_ dy: Tensor<T>) -> Tensor<T> {
        precondition(dy.shape == shape, "ReLU.backward: output gradient \(dy.shape), expected \(String(describing: shape))")
        inputGradient.reserve(dy.shape.count)
        let (y, g, dx) = (output.pointer, dy.pointer, inputGradient.pointer)
        // Both values loaded unconditionally, so the select vectorizes.
        for i in 0..<dy.shape.count {
            let gradient = g[i]
            dx[i] = y[i] > 0 ? gradient : 0
        }
        return Tensor(dx, dy.shape)
    }
}
