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
        RowKernels.rectifiedGradient(dy.pointer, output: output.pointer, into: inputGradient.pointer, count: dy.shape.count)
        return Tensor(inputGradient.pointer, dy.shape)
    }
}
